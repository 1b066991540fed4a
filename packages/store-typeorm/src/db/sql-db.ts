import type { QueryResult, QueryRunner } from 'typeorm';

/** A row as the driver returns it. */
export type Row = Record<string, unknown>;

/** Statements inside one transaction (or one read), with `?` placeholders. */
export interface Sql {
  /** Runs a statement that returns rows (a SELECT, or a write with RETURNING). */
  rows(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a write; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

/**
 * The two things the store needs from a database: reads, and write transactions that
 * serialise against every other writer on the same database, in this process or another.
 */
export interface SqlDb {
  /** `'sqlite'` or `'postgres'`. */
  readonly kind: 'sqlite' | 'postgres';
  /** SQL for the database's own current time (stored beside the clock's times, informative). */
  readonly nowSql: string;
  /** Runs statements outside an explicit transaction: reads, or one self-contained write (atomic alone). */
  auto<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  /** Runs `work` in one write transaction: committed when it resolves, rolled back when it throws. */
  write<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  /**
   * Runs a self-contained write that may share its commit with other writes (SQLite: group commit, one fsync for
   * every write queued meanwhile; PostgreSQL: as {@link SqlDb.auto}). Resolves once its commit is durable; a `work`
   * that throws has written nothing and leaves the others alone.
   */
  batched<T>(work: (sql: Sql) => Promise<T>): Promise<T>;
  /**
   * Locks the fence budget's rows inside a write transaction: the global row, then the
   * partition's (a no-op where the transaction already excludes every other writer).
   */
  lockBudget(sql: Sql, partition: string): Promise<void>;
  /** The database server's own clock, in epoch ms (read inside `sql`'s transaction). */
  nowMs(sql: Sql): Promise<number>;
  /** Closes the connections. */
  close(): Promise<void>;
}

/** A promise chain that runs one task at a time, in call order. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task queued before it has settled. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** Statements over one typeorm query runner; `rewrite` adapts the `?` placeholders. */
export function sqlOver(runner: QueryRunner, rewrite: (text: string) => string = (t) => t): Sql {
  const exec = async (text: string, params: readonly unknown[]) =>
    (await runner.query(rewrite(text), [...params], true)) as QueryResult<Row>;
  return {
    rows: async (text, params = []) => (await exec(text, params)).records ?? [],
    run: async (text, params = []) => (await exec(text, params)).affected ?? 0,
  };
}
