import {
  LeaseLostError,
  type ArmRecord,
  type CoordinationStore,
  type EventQuery,
  type EventRetention,
  type FenceLogEntry,
  type MemberRecord,
  type OutboxQuery,
  type PartitionLease,
  type PartitionRecord,
  type PowerIntent,
  type ResourceRecord,
  type StateStore,
  type StopLimits,
  type StopVerdict,
  type StoredEvent,
  type WriteOptions,
} from '@hafence/core';
import type { Sql, SqlDb } from '../db/sql-db.js';
import { StoreOptionsError } from '../errors.js';
import { acquireLeaseSql, updateHeldLease, type LeaseTake } from './coordination-sql.js';
import { armOf, bound, eventOf, intentOf, leaseOf, memberOf, num, recordOf } from './row-mapping.js';
import { countSince, insertFenceLog, insertOutbox, writeResource } from './write-sql.js';

/**
 * The persistent {@link StateStore} and {@link CoordinationStore} over SQLite or PostgreSQL.
 * Same semantics as core's `MemoryStateStore`: compare-and-set on `version`, fenced writes
 * that bump the owner row's `write_seq` in the write's own transaction (or roll it back
 * and throw `LeaseLostError`), and a fence budget counted and appended in one serialised
 * transaction. Build one with `createSqliteStore` or `createPostgresStore`.
 */
export class TypeormStateStore implements StateStore, CoordinationStore {
  /**
   * Wraps an open database whose schema is migrated. With `windowClock: 'database'` the
   * fence budget's window is measured on the database's own clock (several servers: no
   * server's clock can widen it); with `'caller'` on the `at` of each entry.
   */
  constructor(
    private readonly db: SqlDb,
    private readonly windowClock: 'database' | 'caller' = 'caller',
  ) {}

  /** Which database this store writes to. */
  get kind(): 'sqlite' | 'postgres' {
    return this.db.kind;
  }

  async loadResources(): Promise<ResourceRecord[]> {
    const rows = await this.db.auto((sql) => sql.rows('SELECT json FROM resources ORDER BY key'));
    return rows.map((r) => recordOf<ResourceRecord>(r));
  }

  async getResource(key: string): Promise<ResourceRecord | undefined> {
    const rows = await this.db.auto((sql) => sql.rows('SELECT json FROM resources WHERE key = ?', [key]));
    return rows[0] ? recordOf<ResourceRecord>(rows[0]) : undefined;
  }

  async saveResource(record: ResourceRecord, expectedVersion: number | null, options?: WriteOptions): Promise<boolean> {
    return this.fenced(options, (sql) => writeResource(sql, record, expectedVersion), true);
  }

  async saveResourceWithEvents(
    record: ResourceRecord,
    expectedVersion: number | null,
    events: ReadonlyArray<Readonly<{ t: number; type: string }>>,
    options?: WriteOptions,
  ): Promise<number[] | undefined> {
    // Without events: the record's one statement, as saveResource (no transaction of its own when unfenced).
    if (events.length === 0) return (await this.saveResource(record, expectedVersion, options)) ? [] : undefined;
    return this.fenced(options, async (sql) => {
      if (!(await writeResource(sql, record, expectedVersion))) return undefined;
      return insertOutbox(sql, record.partition, events);
    });
  }

  async listUndelivered(query: OutboxQuery): Promise<StoredEvent[]> {
    const page = [query.afterId ?? 0, Math.max(0, Math.floor(query.limit))];
    const rows = await this.db.auto((sql) =>
      query.partition === undefined
        ? sql.rows(
            'SELECT id, t, type, json FROM events WHERE outbox_partition IS NOT NULL AND id > ? ORDER BY id LIMIT ?',
            page,
          )
        : sql.rows('SELECT id, t, type, json FROM events WHERE outbox_partition = ? AND id > ? ORDER BY id LIMIT ?', [
            query.partition,
            ...page,
          ]),
    );
    return rows.map(eventOf);
  }

  async markDelivered(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    const chunks: number[][] = [];
    for (let i = 0; i < ids.length; i += DELIVERED_CHUNK) chunks.push(ids.slice(i, i + DELIVERED_CHUNK));
    const mark = async (sql: Sql) => {
      for (const chunk of chunks) {
        await sql.run(
          `UPDATE events SET outbox_partition = NULL WHERE id IN (${chunk.map(() => '?').join(', ')})`,
          chunk,
        );
      }
    };
    // One statement is atomic alone and shares the commit of the writes queued beside it (SQLite: a commit of its
    // own cost an fsync per batch of marks, ~5,000 at a cold start of 100,000); several share one transaction.
    await (chunks.length === 1 ? this.db.batched(mark) : this.db.write(mark));
  }

  async deleteResource(key: string, options?: WriteOptions): Promise<void> {
    await this.fenced(options, async (sql) => {
      await sql.run('DELETE FROM resources WHERE key = ?', [key]);
      await sql.run('DELETE FROM intents WHERE resource = ?', [key]);
    });
  }

  async loadPartitions(): Promise<PartitionRecord[]> {
    const rows = await this.db.auto((sql) => sql.rows('SELECT json FROM partitions ORDER BY id'));
    return rows.map((r) => recordOf<PartitionRecord>(r));
  }

  async savePartition(
    record: PartitionRecord,
    expectedVersion: number | null,
    options?: WriteOptions,
  ): Promise<boolean> {
    const json = JSON.stringify(record);
    return this.fenced(
      options,
      async (sql) => {
        const n =
          expectedVersion === null
            ? await sql.run('INSERT INTO partitions (id, version, json) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING', [
                record.id,
                record.version,
                json,
              ])
            : await sql.run('UPDATE partitions SET version = ?, json = ? WHERE id = ? AND version = ?', [
                record.version,
                json,
                record.id,
                expectedVersion,
              ]);
        return n > 0;
      },
      true,
    );
  }

  async appendFenceLog(entry: FenceLogEntry, options?: WriteOptions): Promise<void> {
    await this.fenced(options, (sql) => insertFenceLog(sql, entry), true);
  }

  async countFenceLog(since: number, partition?: string): Promise<number> {
    return this.db.auto((sql) => countSince(sql, since, partition));
  }

  async takeStop(entry: FenceLogEntry, limits: StopLimits, options?: WriteOptions): Promise<StopVerdict> {
    return this.fenced(options, async (sql): Promise<StopVerdict> => {
      await this.db.lockBudget(sql, entry.partition);
      // On the database's clock (read after the lock), the entry's time and the operator's
      // resumes (taken on the caller's clock) move by the caller's offset from it.
      const offset = this.windowClock === 'database' ? (await this.db.nowMs(sql)) - entry.at : 0;
      const stop = { ...entry, at: entry.at + offset };
      const since = (scope: string) =>
        Math.max(stop.at - limits.windowMs, (limits.resumedAt?.[scope] ?? -Infinity) + offset);
      const inPartition = await countSince(sql, since(stop.partition), stop.partition);
      if (inPartition >= limits.perPartition) {
        return { taken: false, scope: stop.partition, count: inPartition, limit: limits.perPartition };
      }
      const everywhere = await countSince(sql, since('global'));
      if (everywhere >= limits.global)
        return { taken: false, scope: 'global', count: everywhere, limit: limits.global };
      await insertFenceLog(sql, stop);
      return { taken: true };
    });
  }

  async putIntent(intent: PowerIntent, options?: WriteOptions): Promise<void> {
    await this.fenced(
      options,
      (sql) =>
        sql.run(
          `INSERT INTO intents (resource, command, at) VALUES (?, ?, ?)
         ON CONFLICT (resource) DO UPDATE SET command = excluded.command, at = excluded.at`,
          [intent.resource, intent.command, intent.at],
        ),
      true,
    );
  }

  async clearIntent(resource: string, options?: WriteOptions): Promise<void> {
    await this.fenced(options, (sql) => sql.run('DELETE FROM intents WHERE resource = ?', [resource]), true);
  }

  async listIntents(): Promise<PowerIntent[]> {
    const rows = await this.db.auto((sql) => sql.rows('SELECT resource, command, at FROM intents ORDER BY resource'));
    return rows.map(intentOf);
  }

  async recordArm(record: ArmRecord, options?: WriteOptions): Promise<boolean> {
    const n = await this.fenced(
      options,
      (sql) =>
        sql.run(
          `INSERT INTO arm_records (resource, arm_gen, kind, at) VALUES (?, ?, ?, ?)
         ON CONFLICT (resource) DO UPDATE SET arm_gen = excluded.arm_gen, kind = excluded.kind, at = excluded.at
         WHERE arm_records.arm_gen < excluded.arm_gen`,
          [record.resource, record.armGen, record.kind, record.at],
        ),
      true,
    );
    return n > 0;
  }

  async latestArm(resource: string): Promise<ArmRecord | undefined> {
    const rows = await this.db.auto((sql) =>
      sql.rows('SELECT resource, arm_gen, kind, at FROM arm_records WHERE resource = ?', [resource]),
    );
    return rows[0] ? armOf(rows[0]) : undefined;
  }

  async appendEvent(event: Readonly<{ t: number; type: string }>): Promise<void> {
    await this.db.batched((sql) =>
      sql.run('INSERT INTO events (t, type, json) VALUES (?, ?, ?)', [event.t, event.type, JSON.stringify(event)]),
    );
  }

  async listEvents(query: EventQuery): Promise<StoredEvent[]> {
    const rows = await this.db.auto((sql) =>
      sql.rows('SELECT id, t, type, json FROM events WHERE id > ? ORDER BY id LIMIT ?', [
        query.afterId ?? 0,
        Math.max(0, Math.floor(query.limit)),
      ]),
    );
    return rows.map(eventOf);
  }

  async pruneEvents(retention: EventRetention): Promise<number> {
    return this.db.write(async (sql) => {
      // An undelivered outbox row is never dropped: its relay is still owed.
      const old = await sql.run('DELETE FROM events WHERE t < ? AND outbox_partition IS NULL', [
        bound(retention.before),
      ]);
      const surplus =
        retention.maxRows > 0
          ? await sql.run(
              `DELETE FROM events WHERE outbox_partition IS NULL
               AND id <= (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?)`,
              [Math.floor(retention.maxRows)],
            )
          : await sql.run('DELETE FROM events WHERE outbox_partition IS NULL');
      return old + surplus;
    });
  }

  async renewMember(member: MemberRecord): Promise<void> {
    const now = this.db.nowSql;
    await this.db.auto((sql) =>
      sql.run(
        `INSERT INTO members (run_id, ms_id, renew_seq, reach, renewed_db_at) VALUES (?, ?, ?, ?, ${now})
         ON CONFLICT (run_id) DO UPDATE SET ms_id = excluded.ms_id, renew_seq = excluded.renew_seq,
           reach = excluded.reach, renewed_db_at = ${now}`,
        [member.runId, member.msId, member.renewSeq, member.reach ? JSON.stringify(member.reach) : null],
      ),
    );
  }

  async listMembers(): Promise<MemberRecord[]> {
    const rows = await this.db.auto((sql) =>
      sql.rows('SELECT run_id, ms_id, renew_seq, reach FROM members ORDER BY run_id'),
    );
    return rows.map(memberOf);
  }

  async removeMember(runId: string): Promise<void> {
    await this.db.auto((sql) => sql.run('DELETE FROM members WHERE run_id = ?', [runId]));
  }

  async listLeases(): Promise<PartitionLease[]> {
    const rows = await this.db.auto((sql) =>
      sql.rows(
        'SELECT partition, ms_id, run_id, epoch, renew_seq, lease_ttl_ms, write_seq FROM partition_owner ORDER BY partition',
      ),
    );
    return rows.map(leaseOf);
  }

  async acquireLease(take: LeaseTake, expectedEpoch: number | null): Promise<PartitionLease | undefined> {
    return acquireLeaseSql(this.db, take, expectedEpoch);
  }

  async renewLease(partition: string, runId: string, epoch: number): Promise<boolean> {
    return updateHeldLease(this.db, 'renew', { partition, runId, epoch });
  }

  async releaseLease(partition: string, runId: string, epoch: number): Promise<boolean> {
    return updateHeldLease(this.db, 'release', { partition, runId, epoch });
  }

  /**
   * Reads a setting of the SQLite connection (`journal_mode`, `synchronous`: 2 is FULL,
   * `busy_timeout` in ms, `cache_size`: negative is KiB), for diagnostics; a PostgreSQL store has none.
   */
  async sqlitePragma(name: 'journal_mode' | 'synchronous' | 'busy_timeout' | 'cache_size'): Promise<string | number> {
    if (this.db.kind !== 'sqlite') throw new StoreOptionsError('sqlitePragma', 'this store is not SQLite');
    if (!['journal_mode', 'synchronous', 'busy_timeout', 'cache_size'].includes(name)) {
      throw new StoreOptionsError('sqlitePragma', `unknown setting '${String(name)}'`);
    }
    const rows = await this.db.auto((sql) => sql.rows(`PRAGMA ${name}`));
    const row = rows[0] ?? {};
    return (row[name] ?? row['timeout'] ?? Object.values(row)[0]) as string | number;
  }

  /** Closes the database connections. */
  async close(): Promise<void> {
    await this.db.close();
  }

  /**
   * Runs `work` in one write transaction that starts with the fenced-write statement
   * (unless it is a `single` unfenced statement, which runs alone)
   * (docs/behaviour.md#several-servers): zero rows → the transaction rolls back and
   * `LeaseLostError` is thrown.
   */
  private fenced<T>(options: WriteOptions | undefined, work: (sql: Sql) => Promise<T>, single = false): Promise<T> {
    const fence = options?.fence;
    // One unfenced statement needs no explicit transaction: it is atomic alone (one round trip fewer), and may share
    // its commit with the writes queued beside it (SQLite: group commit).
    if (!fence && single) return this.db.batched(work);
    return this.db.write(async (sql) => {
      if (fence) {
        const n = await sql.run(
          `UPDATE partition_owner SET write_seq = write_seq + 1
           WHERE partition = ? AND epoch = ? AND run_id = ? AND run_id <> ''`,
          [fence.partition, fence.epoch, fence.runId],
        );
        if (n === 0) {
          const found = await sql.rows('SELECT epoch, run_id FROM partition_owner WHERE partition = ?', [
            fence.partition,
          ]);
          const row = found[0];
          throw new LeaseLostError(
            fence.partition,
            row ? `now epoch ${num(row['epoch'])}, run '${String(row['run_id']) || '(released)'}'` : 'no lease row',
          );
        }
      }
      return work(sql);
    });
  }
}

/** Ids per statement when marking outbox rows delivered (well below either database's bound-parameter limit). */
const DELIVERED_CHUNK = 500;
