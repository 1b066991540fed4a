import type { MigrationInterface, QueryRunner } from 'typeorm';

// The outbox (docs/behaviour.md#persistence): an event a state write causes is an `events` row written in the write's
// transaction, with `outbox_partition` set to its partition until its delivery is recorded (then NULL, as for every
// event no state write caused). The index serves the relay: a partition's undelivered rows in id (write) order.

const SQLITE_UP = [
  'ALTER TABLE "events" ADD COLUMN "outbox_partition" varchar(512)',
  'CREATE INDEX "events_outbox" ON "events" ("outbox_partition", "id")',
];
const SQLITE_DOWN = ['DROP INDEX "events_outbox"', 'ALTER TABLE "events" DROP COLUMN "outbox_partition"'];

const POSTGRES_UP = [
  'ALTER TABLE "events" ADD "outbox_partition" character varying(512)',
  'CREATE INDEX "events_outbox" ON "events"  ("outbox_partition", "id")',
];
const POSTGRES_DOWN = ['DROP INDEX "public"."events_outbox"', 'ALTER TABLE "events" DROP COLUMN "outbox_partition"'];

/** Applies statements in order. */
async function runAll(runner: QueryRunner, statements: readonly string[]): Promise<void> {
  for (const sql of statements) await runner.query(sql);
}

/** The outbox column and index on SQLite. */
export class OutboxSqlite1795996800000 implements MigrationInterface {
  /** Migration name, as recorded in the migrations table. */
  readonly name = 'OutboxSqlite1795996800000';

  /** Adds the column and its index. */
  async up(runner: QueryRunner): Promise<void> {
    await runAll(runner, SQLITE_UP);
  }

  /** Drops them. */
  async down(runner: QueryRunner): Promise<void> {
    await runAll(runner, SQLITE_DOWN);
  }
}

/** The outbox column and index on PostgreSQL. */
export class OutboxPostgres1795996800000 implements MigrationInterface {
  /** Migration name, as recorded in the migrations table. */
  readonly name = 'OutboxPostgres1795996800000';

  /** Adds the column and its index. */
  async up(runner: QueryRunner): Promise<void> {
    await runAll(runner, POSTGRES_UP);
  }

  /** Drops them. */
  async down(runner: QueryRunner): Promise<void> {
    await runAll(runner, POSTGRES_DOWN);
  }
}
