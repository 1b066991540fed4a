import type { DataSource, QueryRunner } from 'typeorm';
import { Mutex, sqlOver, type Sql, type SqlDb } from './sql-db.js';

/** A write waiting for its group's commit. */
interface QueuedWrite {
  readonly work: (sql: Sql) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * SQLite through typeorm's better-sqlite3 driver. The driver holds one connection, so
 * this process's callers take turns (a {@link Mutex}); other processes are kept out by
 * `BEGIN IMMEDIATE`, which takes the database's write lock at the start of every write
 * transaction (waiting up to the busy timeout), so a transaction never reads state that
 * another writer changes before it commits.
 *
 * Group commit: every write transaction queued while another holds the connection joins one `BEGIN IMMEDIATE …
 * COMMIT` — one fsync (`synchronous=FULL`) for the group instead of one each — each in its own savepoint, so one that
 * throws is rolled back alone and the others commit. Every caller resolves only after the group's commit.
 */
export class SqliteDb implements SqlDb {
  readonly kind = 'sqlite';
  readonly nowSql = "datetime('now')";
  private readonly turn = new Mutex();
  private readonly sql: Sql;
  /** The group that later writes still join (closed when it starts, or when a read is queued behind it). */
  private open: QueuedWrite[] | undefined;

  /** Wraps an initialised data source and its one query runner. */
  constructor(
    private readonly source: DataSource,
    private readonly runner: QueryRunner,
    private readonly onClose: () => void = () => undefined,
  ) {
    this.sql = sqlOver(runner);
  }

  auto<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    this.open = undefined; // a write queued after this read runs after it, as it was called
    return this.turn.run(() => work(this.sql));
  }

  write<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let group = this.open;
      if (!group) {
        // The first write takes a turn for a new group; the writes after it join until the group starts.
        const fresh: QueuedWrite[] = (group = this.open = []);
        void this.turn.run(() => this.commitGroup(fresh));
      }
      group.push({ work, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  batched<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.write(work);
  }

  /** Runs every queued write in one transaction, each in a savepoint; settles them once it committed. */
  private async commitGroup(group: readonly QueuedWrite[]): Promise<void> {
    if (this.open === group) this.open = undefined;
    const settle: Array<() => void> = [];
    const one = group.length === 1;
    try {
      await this.runner.query('BEGIN IMMEDIATE');
    } catch (error) {
      for (const w of group) w.reject(error);
      return;
    }
    try {
      for (const w of group) {
        if (!one) await this.runner.query('SAVEPOINT hafence_write');
        try {
          const value = await w.work(this.sql);
          if (!one) await this.runner.query('RELEASE hafence_write');
          settle.push(() => w.resolve(value));
        } catch (error) {
          if (one) throw error;
          // Its own changes only; a failure here means the transaction itself is gone (caught below).
          await this.runner.query('ROLLBACK TO hafence_write');
          await this.runner.query('RELEASE hafence_write');
          settle.push(() => w.reject(error));
        }
      }
      await this.runner.query('COMMIT');
    } catch (error) {
      await this.runner.query('ROLLBACK').catch(() => undefined);
      for (const w of group) w.reject(error);
      return;
    }
    for (const s of settle) s();
  }

  async lockBudget(): Promise<void> {
    // BEGIN IMMEDIATE already excludes every other writer for the whole transaction.
  }

  async nowMs(sql: Sql): Promise<number> {
    const rows = await sql.rows("SELECT (julianday('now') - 2440587.5) * 86400000.0 AS ms");
    return Number(rows[0]?.['ms']);
  }

  async close(): Promise<void> {
    this.open = undefined;
    await this.turn.run(async () => {
      await this.runner.release();
      await this.source.destroy();
      this.onClose();
    });
  }
}
