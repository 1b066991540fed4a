import type { FenceLogEntry, ResourceRecord } from '@hafence/core';
import type { Sql } from '../db/sql-db.js';
import { bound, num } from './row-mapping.js';

// The statements the store's writes share (a state write, its outbox rows, the fence log and its count).

/** The compare-and-set write of a resource record: an insert (`expectedVersion` null) or a guarded update. */
export async function writeResource(
  sql: Sql,
  record: ResourceRecord,
  expectedVersion: number | null,
): Promise<boolean> {
  const json = JSON.stringify(record);
  const n =
    expectedVersion === null
      ? await sql.run(
          'INSERT INTO resources (key, partition, version, json) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING',
          [record.key, record.partition, record.version, json],
        )
      : // Almost every write keeps the partition: a statement that does not set it leaves the partition index alone
        // (SQLite rewrites an index whose column is set, equal or not: about a third of an update's cost). A moved
        // resource (or a lost compare-and-set) takes the second statement.
        (await sql.run('UPDATE resources SET version = ?, json = ? WHERE key = ? AND version = ? AND partition = ?', [
          record.version,
          json,
          record.key,
          expectedVersion,
          record.partition,
        ])) ||
        (await sql.run('UPDATE resources SET partition = ?, version = ?, json = ? WHERE key = ? AND version = ?', [
          record.partition,
          record.version,
          json,
          record.key,
          expectedVersion,
        ]));
  return n > 0;
}

/**
 * Appends `events` as undelivered outbox rows of `partition`, in one statement; resolves to their ids in the order of
 * `events` (one statement assigns increasing ids in the order of its rows).
 */
export async function insertOutbox(
  sql: Sql,
  partition: string,
  events: ReadonlyArray<Readonly<{ t: number; type: string }>>,
): Promise<number[]> {
  const rows = await sql.rows(
    `INSERT INTO events (t, type, json, outbox_partition) VALUES ${events.map(() => '(?, ?, ?, ?)').join(', ')} RETURNING id`,
    events.flatMap((e) => [e.t, e.type, JSON.stringify(e), partition]),
  );
  return rows.map((r) => num(r['id'])).sort((a, b) => a - b);
}

/** Appends one stop command to the fence log (the database stamps its own time beside it). */
export async function insertFenceLog(sql: Sql, entry: FenceLogEntry): Promise<void> {
  await sql.run('INSERT INTO fence_log (at, partition, resource, command, episode) VALUES (?, ?, ?, ?, ?)', [
    entry.at,
    entry.partition,
    entry.resource,
    entry.command,
    entry.episode ?? null,
  ]);
}

/** Stop commands after `since` (exclusive), in one partition or everywhere. */
export async function countSince(sql: Sql, since: number, partition?: string): Promise<number> {
  const rows =
    partition === undefined
      ? await sql.rows('SELECT COUNT(*) AS n FROM fence_log WHERE at > ?', [bound(since)])
      : await sql.rows('SELECT COUNT(*) AS n FROM fence_log WHERE partition = ? AND at > ?', [partition, bound(since)]);
  return num(rows[0]?.['n'] ?? 0);
}
