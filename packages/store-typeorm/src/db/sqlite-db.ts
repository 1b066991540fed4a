import type { DataSource, QueryRunner } from 'typeorm';
import { Mutex, sqlOver, type Sql, type SqlDb } from './sql-db.js';

/**
 * SQLite through typeorm's better-sqlite3 driver. The driver holds one connection, so
 * this process's callers take turns (a {@link Mutex}); other processes are kept out by
 * `BEGIN IMMEDIATE`, which takes the database's write lock at the start of every write
 * transaction (waiting up to the busy timeout), so a transaction never reads state that
 * another writer changes before it commits.
 */
export class SqliteDb implements SqlDb {
  readonly kind = 'sqlite';
  readonly nowSql = "datetime('now')";
  private readonly turn = new Mutex();
  private readonly sql: Sql;

  /** Wraps an initialised data source and its one query runner. */
  constructor(
    private readonly source: DataSource,
    private readonly runner: QueryRunner,
    private readonly onClose: () => void = () => undefined,
  ) {
    this.sql = sqlOver(runner);
  }

  auto<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.turn.run(() => work(this.sql));
  }

  write<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.turn.run(async () => {
      await this.runner.query('BEGIN IMMEDIATE');
      let result: T;
      try {
        result = await work(this.sql);
      } catch (error) {
        await this.runner.query('ROLLBACK');
        throw error;
      }
      await this.runner.query('COMMIT');
      return result;
    });
  }

  async lockBudget(): Promise<void> {
    // BEGIN IMMEDIATE already excludes every other writer for the whole transaction.
  }

  async nowMs(sql: Sql): Promise<number> {
    const rows = await sql.rows("SELECT (julianday('now') - 2440587.5) * 86400000.0 AS ms");
    return Number(rows[0]?.['ms']);
  }

  async close(): Promise<void> {
    await this.turn.run(async () => {
      await this.runner.release();
      await this.source.destroy();
      this.onClose();
    });
  }
}
