import type { ArmRecord, MemberRecord, PartitionLease, PowerIntent, StoredEvent } from '@hafence/core';
import type { Row } from '../db/sql-db.js';

// Rows to records. PostgreSQL returns BIGINT and COUNT(*) as strings: every number goes
// through Number().

/** A numeric column. */
export const num = (v: unknown): number => Number(v);

/** A bound time: ±Infinity as the largest finite double (both drivers bind finite numbers). */
export const bound = (t: number): number => (Number.isFinite(t) ? t : t > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE);

/** A `partition_owner` row. */
export function leaseOf(r: Row): PartitionLease {
  return {
    partition: String(r['partition']),
    msId: String(r['ms_id']),
    runId: String(r['run_id']),
    epoch: num(r['epoch']),
    renewSeq: num(r['renew_seq']),
    leaseTtlMs: num(r['lease_ttl_ms']),
    writeSeq: num(r['write_seq']),
  };
}

/** A `members` row. */
export function memberOf(r: Row): MemberRecord {
  const reach = r['reach'];
  return {
    msId: String(r['ms_id']),
    runId: String(r['run_id']),
    renewSeq: num(r['renew_seq']),
    ...(typeof reach === 'string' ? { reach: JSON.parse(reach) as Record<string, number> } : {}),
  };
}

/** An `intents` row. */
export function intentOf(r: Row): PowerIntent {
  return { resource: String(r['resource']), command: String(r['command']) as PowerIntent['command'], at: num(r['at']) };
}

/** An `arm_records` row. */
export function armOf(r: Row): ArmRecord {
  return {
    resource: String(r['resource']),
    armGen: num(r['arm_gen']),
    kind: r['kind'] === 'arm' ? 'arm' : 'disarm',
    at: num(r['at']),
  };
}

/** An `events` row. */
export function eventOf(r: Row): StoredEvent {
  return { id: num(r['id']), t: num(r['t']), type: String(r['type']), json: String(r['json']) };
}

/** The `json` column of a resources or partitions row, parsed. */
export function recordOf<T>(r: Row): T {
  return JSON.parse(String(r['json'])) as T;
}
