import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Column types that differ between the two databases. */
interface Dialect {
  readonly serial: string;
  readonly time: string;
  readonly dbNow: string;
  readonly dbTime: string;
}

const SQLITE: Dialect = {
  serial: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  time: 'REAL',
  dbTime: 'TEXT',
  dbNow: "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
};

const POSTGRES: Dialect = {
  serial: 'BIGSERIAL PRIMARY KEY',
  time: 'DOUBLE PRECISION',
  dbTime: 'TIMESTAMPTZ',
  dbNow: 'now()',
};

/** The first schema: every table of `STORE_ENTITIES`, and the global budget row. */
function createStatements(d: Dialect): string[] {
  return [
    `CREATE TABLE resources (key VARCHAR(512) PRIMARY KEY, partition VARCHAR(512) NOT NULL,
      version INTEGER NOT NULL, json TEXT NOT NULL)`,
    'CREATE INDEX resources_partition ON resources (partition)',
    'CREATE TABLE partitions (id VARCHAR(512) PRIMARY KEY, version INTEGER NOT NULL, json TEXT NOT NULL)',
    `CREATE TABLE fence_log (id ${d.serial}, at ${d.time} NOT NULL, partition VARCHAR(512) NOT NULL,
      resource VARCHAR(512) NOT NULL, command VARCHAR(32) NOT NULL, episode INTEGER,
      recorded_db_at ${d.dbTime} NOT NULL DEFAULT ${d.dbNow})`,
    'CREATE INDEX fence_log_at ON fence_log (at)',
    'CREATE INDEX fence_log_partition_at ON fence_log (partition, at)',
    `CREATE TABLE intents (resource VARCHAR(512) PRIMARY KEY, command VARCHAR(32) NOT NULL,
      at ${d.time} NOT NULL)`,
    `CREATE TABLE arm_records (resource VARCHAR(512) PRIMARY KEY, arm_gen INTEGER NOT NULL,
      kind VARCHAR(16) NOT NULL, at ${d.time} NOT NULL)`,
    `CREATE TABLE events (id ${d.serial}, t ${d.time} NOT NULL, type VARCHAR(128) NOT NULL, json TEXT NOT NULL)`,
    'CREATE INDEX events_t ON events (t)',
    `CREATE TABLE members (run_id VARCHAR(256) PRIMARY KEY, ms_id VARCHAR(256) NOT NULL,
      renew_seq INTEGER NOT NULL, reach TEXT, renewed_db_at ${d.dbTime} NOT NULL DEFAULT ${d.dbNow})`,
    `CREATE TABLE partition_owner (partition VARCHAR(512) PRIMARY KEY, ms_id VARCHAR(256) NOT NULL,
      run_id VARCHAR(256) NOT NULL, epoch INTEGER NOT NULL, renew_seq INTEGER NOT NULL,
      lease_ttl_ms ${d.time} NOT NULL, write_seq INTEGER NOT NULL)`,
    'CREATE TABLE budget_lock (scope VARCHAR(600) PRIMARY KEY)',
    "INSERT INTO budget_lock (scope) VALUES ('global')",
  ];
}

const TABLES = [
  'budget_lock',
  'partition_owner',
  'members',
  'events',
  'arm_records',
  'intents',
  'fence_log',
  'partitions',
  'resources',
];

/** Applies a dialect's statements in order. */
async function runAll(runner: QueryRunner, statements: readonly string[]): Promise<void> {
  for (const sql of statements) await runner.query(sql);
}

/** The initial schema on SQLite. */
export class InitialSchemaSqlite1764460800000 implements MigrationInterface {
  /** Migration name, as recorded in the migrations table. */
  readonly name = 'InitialSchemaSqlite1764460800000';

  /** Creates the tables. */
  async up(runner: QueryRunner): Promise<void> {
    await runAll(runner, createStatements(SQLITE));
  }

  /** Drops the tables. */
  async down(runner: QueryRunner): Promise<void> {
    await runAll(
      runner,
      TABLES.map((t) => `DROP TABLE ${t}`),
    );
  }
}

/** The initial schema on PostgreSQL. */
export class InitialSchemaPostgres1764460800000 implements MigrationInterface {
  /** Migration name, as recorded in the migrations table. */
  readonly name = 'InitialSchemaPostgres1764460800000';

  /** Creates the tables. */
  async up(runner: QueryRunner): Promise<void> {
    await runAll(runner, createStatements(POSTGRES));
  }

  /** Drops the tables. */
  async down(runner: QueryRunner): Promise<void> {
    await runAll(
      runner,
      TABLES.map((t) => `DROP TABLE ${t}`),
    );
  }
}
