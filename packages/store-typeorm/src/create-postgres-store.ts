import { DataSource } from 'typeorm';
import { PostgresDb } from './db/postgres-db.js';
import { SILENT_LOGGER, StoreOpenError, StoreOptionsError } from './errors.js';
import { STORE_ENTITIES } from './schema/entities.js';
import { InitialSchemaPostgres1764460800000 } from './schema/initial-schema.js';
import { OutboxPostgres1795996800000 } from './schema/outbox-schema.js';
import { TypeormStateStore } from './store/typeorm-state-store.js';

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions {
  /**
   * `postgres://user[:password]@host[:port]/database` of the primary (never a replica that
   * may lag: docs/behaviour.md#persistence).
   */
  readonly url: string;
  /** The password, when it is not in `url` (it wins over one in `url`). Never logged nor put in errors. */
  readonly password?: string;
  /** Pooled connections (default 10). */
  readonly poolSize?: number;
  /** Connection timeout in ms (default 10000). */
  readonly connectTimeoutMs?: number;
  /**
   * Whose clock measures the fence budget's window: `database` (default: the servers' own
   * clocks may differ, the database's is one for all) or `caller` (each entry's `at`).
   */
  readonly budgetClock?: 'database' | 'caller';
}

// The key of the advisory lock that lets one server at a time run the migrations.
const MIGRATION_LOCK = 0x6861_6665;

/** The connection fields of `url`, with `password` preferred over the URL's. */
function connectionOf(options: PostgresStoreOptions) {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new StoreOptionsError('url', 'not a URL (expected postgres://user@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new StoreOptionsError('url', `protocol '${url.protocol}' is not postgres:`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '') throw new StoreOptionsError('url', 'names no database');
  if (url.port === '0') throw new StoreOptionsError('url', 'port 0 is not a port (give 1–65535, or none for 5432)');
  return {
    // An IPv6 literal is dialled as an address: `[::1]` → `::1`.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    port: url.port ? Number(url.port) : 5432,
    username: decodeURIComponent(url.username),
    password: options.password ?? decodeURIComponent(url.password),
    database,
  };
}

/**
 * Opens the PostgreSQL store shared by several management servers, and migrates its schema
 * (one server at a time, under an advisory lock). Every query goes to the server `url`
 * names; the fence budget serialises across servers with `SELECT … FOR UPDATE`.
 *
 * @example
 * const store = await createPostgresStore({ url: 'postgres://hafence@db1/hafence', password: secret });
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<TypeormStateStore> {
  const connection = connectionOf(options);
  const poolSize = options.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1) throw new StoreOptionsError('poolSize', 'must be an integer ≥ 1');
  const connectTimeoutMS = options.connectTimeoutMs ?? 10_000;
  if (!Number.isInteger(connectTimeoutMS) || connectTimeoutMS < 1)
    throw new StoreOptionsError('connectTimeoutMs', 'must be an integer ≥ 1 (ms): 0 would wait forever');
  const sourceOf = (size: number) =>
    new DataSource({
      type: 'postgres',
      ...connection,
      entities: [...STORE_ENTITIES],
      migrations: [InitialSchemaPostgres1764460800000, OutboxPostgres1795996800000],
      synchronize: false,
      logging: false,
      logger: SILENT_LOGGER,
      poolSize: size,
      connectTimeoutMS,
    });
  // Migrating holds the advisory lock on one connection while the migrations run on another:
  // a source of its own, so a pool of one still opens.
  const migrator = sourceOf(2);
  const source = sourceOf(poolSize);
  try {
    await migrator.initialize();
    await migrate(migrator);
    await migrator.destroy();
    await source.initialize();
  } catch (error) {
    if (migrator.isInitialized) await migrator.destroy();
    if (source.isInitialized) await source.destroy();
    throw new StoreOpenError('postgres', error, [connection.password]);
  }
  return new TypeormStateStore(new PostgresDb(source), options.budgetClock ?? 'database');
}

/** Runs the pending migrations while holding the migration advisory lock on one connection. */
async function migrate(source: DataSource): Promise<void> {
  const runner = source.createQueryRunner();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await source.runMigrations({ transaction: 'all' });
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await runner.release();
  }
}
