import { resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { SqliteDb } from './db/sqlite-db.js';
import { SILENT_LOGGER, StoreOpenError, StoreOptionsError } from './errors.js';
import type { SqliteHandle } from './db/sqlite-db.js';
import { STORE_ENTITIES } from './schema/entities.js';
import { InitialSchemaSqlite1764460800000 } from './schema/initial-schema.js';
import { OutboxSqlite1795996800000 } from './schema/outbox-schema.js';
import { TypeormStateStore } from './store/typeorm-state-store.js';

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /** The database file, on a local disk (created when missing). */
  readonly path: string;
  /** How long a write waits for another process's write lock before failing, in ms (default 5000). */
  readonly busyTimeoutMs?: number;
  /**
   * How long a group commit stays open for more writes (one transaction, one fsync for the group). `'microtask'` (the
   * default): until the promise callbacks pending at the first write have run — a write commits within the turn of
   * the event loop it was made in, which a virtual clock (tests, the demo) needs. `'turn'`: until the next turn of the
   * event loop, so the writes of many timer callbacks share one commit — for a daemon on the real clock (a cold start
   * of 100,000 resources writes ~10,000 records a second; one fsync each would not keep up).
   */
  readonly groupCommit?: 'microtask' | 'turn';
}

/**
 * The connection's page cache, in KiB (SQLite's default is 2 MiB). 100,000 records and their events are ~85 MB of
 * pages, and the writes of a cold start land on leaves of `resources`, `events` and their indexes all over the file:
 * with 64 MiB the SQLite cold start of 100,000 resources took ~3 s less (README, start-up benchmark). SQLite allocates
 * it as pages are used.
 */
const CACHE_KIB = 65_536;

// Files open in this process. A second connection on the same thread would deadlock: while
// the first holds the write lock across an await, the second's busy wait blocks the thread.
const OPEN_FILES = new Set<string>();

/**
 * Opens (or creates) the embedded SQLite store: one file in WAL mode with
 * `synchronous=FULL` (a committed write survives a power cut), a busy timeout, and the
 * schema migrated on open. Every write transaction starts with `BEGIN IMMEDIATE`.
 * Open a file once per process (a second open is refused); several processes may share it.
 *
 * @example
 * const store = await createSqliteStore({ path: '/var/lib/hafence/state.db' });
 * // … new HaService({ store, … }) …
 * await store.close();
 */
export async function createSqliteStore(options: SqliteStoreOptions): Promise<TypeormStateStore> {
  if (typeof options.path !== 'string' || options.path.trim() === '') {
    throw new StoreOptionsError('path', 'a database file path is required');
  }
  const file = resolve(options.path);
  if (OPEN_FILES.has(file)) {
    throw new StoreOptionsError('path', 'this process already has the file open (a second connection would deadlock)');
  }
  const groupCommit = options.groupCommit ?? 'microtask';
  if (groupCommit !== 'microtask' && groupCommit !== 'turn')
    throw new StoreOptionsError('groupCommit', "must be 'microtask' or 'turn'");
  const busy = options.busyTimeoutMs ?? 5000;
  if (!Number.isInteger(busy) || busy < 0) throw new StoreOptionsError('busyTimeoutMs', 'must be an integer ≥ 0');
  const source = new DataSource({
    type: 'better-sqlite3',
    database: options.path,
    timeout: busy,
    entities: [...STORE_ENTITIES],
    migrations: [InitialSchemaSqlite1764460800000, OutboxSqlite1795996800000],
    synchronize: false,
    logging: false,
    logger: SILENT_LOGGER,
    prepareDatabase: (db: { pragma(source: string): unknown }) => {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma(`cache_size = -${CACHE_KIB}`);
      db.pragma(`busy_timeout = ${busy}`);
    },
  });
  try {
    await source.initialize();
    await refuseForeign(source);
    await source.runMigrations({ transaction: 'all' });
  } catch (error) {
    if (source.isInitialized) await source.destroy();
    throw new StoreOpenError('sqlite', error, [], options.path);
  }
  OPEN_FILES.add(file);
  return new TypeormStateStore(
    new SqliteDb(
      source,
      source.createQueryRunner(),
      () => OPEN_FILES.delete(file),
      groupCommit,
      (source.driver as unknown as { databaseConnection: SqliteHandle }).databaseConnection,
    ),
  );
}

/** A database with tables but none of hafence's migrations belongs to another program: it is not adopted. */
async function refuseForeign(source: DataSource): Promise<void> {
  const tables = (await source.query(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
  )) as Array<{ name: string }>;
  if (tables.length > 0 && !tables.some((t) => t.name === 'migrations')) {
    throw new Error(
      `not a hafence store: it holds another program's tables (${tables
        .slice(0, 5)
        .map((t) => t.name)
        .join(', ')}${tables.length > 5 ? ', …' : ''})`,
    );
  }
}
