import type { DataSource } from 'typeorm';
import { sqlOver, type Sql, type SqlDb } from './sql-db.js';

/** Rewrites `?` placeholders as PostgreSQL's `$1, $2, …` (the store's SQL has no `?` in literals). */
export function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/**
 * PostgreSQL through typeorm's pg driver: a pooled connection per transaction, at READ
 * COMMITTED. Compare-and-set statements re-check their WHERE clause after waiting for a
 * concurrent writer's row lock, so exactly one of two racing writers wins; the fence
 * budget locks its rows with `SELECT … FOR UPDATE` (see {@link PostgresDb.lockBudget}).
 */
export class PostgresDb implements SqlDb {
  readonly kind = 'postgres';
  readonly nowSql = 'now()';

  /** Wraps an initialised data source. */
  constructor(private readonly source: DataSource) {}

  async auto<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    const runner = this.source.createQueryRunner();
    try {
      return await work(sqlOver(runner, numbered));
    } finally {
      await runner.release();
    }
  }

  batched<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.auto(work);
  }

  async write<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    const runner = this.source.createQueryRunner();
    try {
      await runner.connect();
      await runner.query('BEGIN');
      const sql = sqlOver(runner, numbered);
      let result: T;
      try {
        result = await work(sql);
      } catch (error) {
        await runner.query('ROLLBACK');
        throw error;
      }
      await runner.query('COMMIT');
      return result;
    } finally {
      await runner.release();
    }
  }

  /**
   * Locks the global budget row, then the partition's (always in that order, so two
   * transactions cannot deadlock). Every server's count-and-append then runs one at a time,
   * and at READ COMMITTED each count after the lock sees every stop committed before it.
   */
  async lockBudget(sql: Sql, partition: string): Promise<void> {
    const scope = `partition:${partition}`;
    await sql.rows("SELECT scope FROM budget_lock WHERE scope = 'global' FOR UPDATE");
    // Inserted under the global lock: two first stops in a new partition cannot deadlock on it.
    await sql.run('INSERT INTO budget_lock (scope) VALUES (?) ON CONFLICT (scope) DO NOTHING', [scope]);
    await sql.rows('SELECT scope FROM budget_lock WHERE scope = ? FOR UPDATE', [scope]);
  }

  async nowMs(sql: Sql): Promise<number> {
    // clock_timestamp(), not now(): the transaction may have waited for the budget lock.
    const rows = await sql.rows('SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::float8 AS ms');
    return Number(rows[0]?.['ms']);
  }

  async close(): Promise<void> {
    await this.source.destroy();
  }
}
