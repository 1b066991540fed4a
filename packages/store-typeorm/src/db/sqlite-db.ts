import type { DataSource, QueryRunner } from 'typeorm';
import { Mutex, sqlOver, type Row, type Sql, type SqlDb } from './sql-db.js';

/** What the store uses of a better-sqlite3 connection (typeorm's driver holds it). */
export interface SqliteHandle {
  prepare(source: string): SqliteStatement;
}

/** A prepared better-sqlite3 statement. */
interface SqliteStatement {
  readonly reader: boolean;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
}

/** Prepared statements kept per connection (the store's statements are a few dozen texts). */
const STATEMENT_CACHE = 256;

/**
 * Statements on the better-sqlite3 connection itself, each text prepared once. typeorm's `query` prepares, logs,
 * broadcasts and wraps every statement; at 300,000 record writes in a start-up that was most of the store's cost.
 * Errors are better-sqlite3's own (`SqliteError` with its `code`).
 */
export function sqlOnHandle(handle: SqliteHandle): Sql {
  const cache = new Map<string, SqliteStatement>();
  const prepared = (text: string): SqliteStatement => {
    let statement = cache.get(text);
    if (statement === undefined) {
      if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value as string);
      statement = handle.prepare(text);
      cache.set(text, statement);
    }
    return statement;
  };
  // better-sqlite3 binds no booleans: 1 and 0, as typeorm's driver does.
  const bound = (params: readonly unknown[]) => params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
  return {
    rows: async (text, params = []) => {
      const statement = prepared(text);
      if (statement.reader) return statement.all(...bound(params)) as Row[];
      statement.run(...bound(params));
      return [];
    },
    run: async (text, params = []) => prepared(text).run(...bound(params)).changes,
  };
}

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
 * COMMIT` — one fsync (`synchronous=FULL`) for the group instead of one each; should one throw, the group is rolled
 * back and each runs again alone, so it fails alone. Every caller resolves only after its commit.
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
    private readonly groupCommit: 'microtask' | 'turn' = 'microtask',
    handle?: SqliteHandle,
  ) {
    this.sql = handle ? sqlOnHandle(handle) : sqlOver(runner);
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
        void this.turn.run(async () => {
          // better-sqlite3 commits synchronously: let the promise callbacks pending now run first, so the writes
          // they queue join the group (not one fsync per write). Not a whole turn of the event loop: a write must
          // commit within the turn it was made in, as the other stores do, or a virtual clock (the demo, tests)
          // moves on before the step that wrote has ended.
          // With groupCommit 'turn' (a daemon on the real clock) the group stays open until the next turn instead.
          if (this.groupCommit === 'turn') await new Promise<void>((resolve) => setImmediate(resolve));
          else await new Promise<void>((resolve) => queueMicrotask(resolve));
          await this.commitGroup(fresh);
        });
      }
      group.push({ work, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  batched<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.write(work);
  }

  /**
   * Runs every queued write in one transaction and settles them once it committed. Should one throw, the group is
   * rolled back and each write runs again in a transaction of its own, so one write's failure is its own.
   */
  private async commitGroup(group: readonly QueuedWrite[]): Promise<void> {
    if (this.open === group) this.open = undefined;
    const values: unknown[] = [];
    try {
      await this.sql.run('BEGIN IMMEDIATE');
    } catch (error) {
      for (const w of group) w.reject(error);
      return;
    }
    try {
      for (const w of group) values.push(await w.work(this.sql));
      await this.sql.run('COMMIT');
    } catch (error) {
      await this.sql.run('ROLLBACK').catch(() => undefined);
      if (group.length === 1) {
        group[0]?.reject(error);
        return;
      }
      for (const w of group) await this.commitGroup([w]);
      return;
    }
    group.forEach((w, i) => w.resolve(values[i]));
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
