import type { MigrationInterface, QueryRunner } from 'typeorm';

// The first schema, as typeorm's schema builder derives it from STORE_ENTITIES (a test
// checks that a migrated PostgreSQL database has nothing left to synchronise). SQLite
// differs in one place: AUTOINCREMENT needs `integer PRIMARY KEY` (64-bit in SQLite).

/** The global row of the fence budget's lock (the partition rows are added on first use). */
const GLOBAL_BUDGET_ROW = "INSERT INTO budget_lock (scope) VALUES ('global')";

const SQLITE_UP = [
  'CREATE TABLE "resources" ("key" varchar(512) PRIMARY KEY NOT NULL, "partition" varchar(512) NOT NULL, "version" integer NOT NULL, "json" text NOT NULL)',
  'CREATE INDEX "resources_partition" ON "resources" ("partition")',
  'CREATE TABLE "partitions" ("id" varchar(512) PRIMARY KEY NOT NULL, "version" integer NOT NULL, "json" text NOT NULL)',
  'CREATE TABLE "fence_log" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "at" double precision NOT NULL, "partition" varchar(512) NOT NULL, "resource" varchar(512) NOT NULL, "command" varchar(32) NOT NULL, "episode" integer, "recorded_db_at" datetime NOT NULL DEFAULT (datetime(\'now\')))',
  'CREATE INDEX "fence_log_at" ON "fence_log" ("at")',
  'CREATE INDEX "fence_log_partition_at" ON "fence_log" ("partition", "at")',
  'CREATE TABLE "intents" ("resource" varchar(512) PRIMARY KEY NOT NULL, "command" varchar(32) NOT NULL, "at" double precision NOT NULL)',
  'CREATE TABLE "arm_records" ("resource" varchar(512) PRIMARY KEY NOT NULL, "arm_gen" integer NOT NULL, "kind" varchar(16) NOT NULL, "at" double precision NOT NULL)',
  'CREATE TABLE "events" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "t" double precision NOT NULL, "type" varchar(128) NOT NULL, "json" text NOT NULL)',
  'CREATE INDEX "events_t" ON "events" ("t")',
  'CREATE TABLE "members" ("run_id" varchar(256) PRIMARY KEY NOT NULL, "ms_id" varchar(256) NOT NULL, "renew_seq" integer NOT NULL, "reach" text, "renewed_db_at" datetime NOT NULL DEFAULT (datetime(\'now\')))',
  'CREATE TABLE "partition_owner" ("partition" varchar(512) PRIMARY KEY NOT NULL, "ms_id" varchar(256) NOT NULL, "run_id" varchar(256) NOT NULL, "epoch" integer NOT NULL, "renew_seq" integer NOT NULL, "lease_ttl_ms" double precision NOT NULL, "write_seq" integer NOT NULL)',
  'CREATE TABLE "budget_lock" ("scope" varchar(600) PRIMARY KEY NOT NULL)',
  GLOBAL_BUDGET_ROW,
];

const SQLITE_DOWN = [
  'DROP TABLE "budget_lock"',
  'DROP TABLE "partition_owner"',
  'DROP TABLE "members"',
  'DROP INDEX "events_t"',
  'DROP TABLE "events"',
  'DROP TABLE "arm_records"',
  'DROP TABLE "intents"',
  'DROP INDEX "fence_log_partition_at"',
  'DROP INDEX "fence_log_at"',
  'DROP TABLE "fence_log"',
  'DROP TABLE "partitions"',
  'DROP INDEX "resources_partition"',
  'DROP TABLE "resources"',
];

const POSTGRES_UP = [
  'CREATE TABLE "resources" ("key" character varying(512) NOT NULL, "partition" character varying(512) NOT NULL, "version" integer NOT NULL, "json" text NOT NULL, CONSTRAINT "PK_1b7ff65a66ad7de7efc2d9ef0f1" PRIMARY KEY ("key"))',
  'CREATE INDEX "resources_partition" ON "resources"  ("partition")',
  'CREATE TABLE "partitions" ("id" character varying(512) NOT NULL, "version" integer NOT NULL, "json" text NOT NULL, CONSTRAINT "PK_8745dc8df900b149674b14b6f3a" PRIMARY KEY ("id"))',
  'CREATE TABLE "fence_log" ("id" BIGSERIAL NOT NULL, "at" double precision NOT NULL, "partition" character varying(512) NOT NULL, "resource" character varying(512) NOT NULL, "command" character varying(32) NOT NULL, "episode" integer, "recorded_db_at" TIMESTAMP NOT NULL DEFAULT now(), CONSTRAINT "PK_6405bba6bd0dd79bf1054fbc23a" PRIMARY KEY ("id"))',
  'CREATE INDEX "fence_log_at" ON "fence_log"  ("at")',
  'CREATE INDEX "fence_log_partition_at" ON "fence_log"  ("partition", "at")',
  'CREATE TABLE "intents" ("resource" character varying(512) NOT NULL, "command" character varying(32) NOT NULL, "at" double precision NOT NULL, CONSTRAINT "PK_24a6b94d4509728f00183858ac9" PRIMARY KEY ("resource"))',
  'CREATE TABLE "arm_records" ("resource" character varying(512) NOT NULL, "arm_gen" integer NOT NULL, "kind" character varying(16) NOT NULL, "at" double precision NOT NULL, CONSTRAINT "PK_1f37ad58ebd8a7affcad7c076eb" PRIMARY KEY ("resource"))',
  'CREATE TABLE "events" ("id" BIGSERIAL NOT NULL, "t" double precision NOT NULL, "type" character varying(128) NOT NULL, "json" text NOT NULL, CONSTRAINT "PK_40731c7151fe4be3116e45ddf73" PRIMARY KEY ("id"))',
  'CREATE INDEX "events_t" ON "events"  ("t")',
  'CREATE TABLE "members" ("run_id" character varying(256) NOT NULL, "ms_id" character varying(256) NOT NULL, "renew_seq" integer NOT NULL, "reach" text, "renewed_db_at" TIMESTAMP NOT NULL DEFAULT now(), CONSTRAINT "PK_1f195ec5572bddddae58d4c4c3c" PRIMARY KEY ("run_id"))',
  'CREATE TABLE "partition_owner" ("partition" character varying(512) NOT NULL, "ms_id" character varying(256) NOT NULL, "run_id" character varying(256) NOT NULL, "epoch" integer NOT NULL, "renew_seq" integer NOT NULL, "lease_ttl_ms" double precision NOT NULL, "write_seq" integer NOT NULL, CONSTRAINT "PK_76f377d7402e6480e27db5dd19e" PRIMARY KEY ("partition"))',
  'CREATE TABLE "budget_lock" ("scope" character varying(600) NOT NULL, CONSTRAINT "PK_e58567fd4c28d2ca7ab0e41aa42" PRIMARY KEY ("scope"))',
  GLOBAL_BUDGET_ROW,
];

const POSTGRES_DOWN = [
  'DROP TABLE "budget_lock"',
  'DROP TABLE "partition_owner"',
  'DROP TABLE "members"',
  'DROP INDEX "public"."events_t"',
  'DROP TABLE "events"',
  'DROP TABLE "arm_records"',
  'DROP TABLE "intents"',
  'DROP INDEX "public"."fence_log_partition_at"',
  'DROP INDEX "public"."fence_log_at"',
  'DROP TABLE "fence_log"',
  'DROP TABLE "partitions"',
  'DROP INDEX "public"."resources_partition"',
  'DROP TABLE "resources"',
];

/** Applies statements in order. */
async function runAll(runner: QueryRunner, statements: readonly string[]): Promise<void> {
  for (const sql of statements) await runner.query(sql);
}

/** The initial schema on SQLite. */
export class InitialSchemaSqlite1764460800000 implements MigrationInterface {
  /** Migration name, as recorded in the migrations table. */
  readonly name = 'InitialSchemaSqlite1764460800000';

  /** Creates the tables. */
  async up(runner: QueryRunner): Promise<void> {
    await runAll(runner, SQLITE_UP);
  }

  /** Drops the tables. */
  async down(runner: QueryRunner): Promise<void> {
    await runAll(runner, SQLITE_DOWN);
  }
}

/** The initial schema on PostgreSQL. */
export class InitialSchemaPostgres1764460800000 implements MigrationInterface {
  /** Migration name, as recorded in the migrations table. */
  readonly name = 'InitialSchemaPostgres1764460800000';

  /** Creates the tables. */
  async up(runner: QueryRunner): Promise<void> {
    await runAll(runner, POSTGRES_UP);
  }

  /** Drops the tables. */
  async down(runner: QueryRunner): Promise<void> {
    await runAll(runner, POSTGRES_DOWN);
  }
}
