import type { PartitionLease } from '@hafence/core';
import type { SqlDb } from '../db/sql-db.js';
import { leaseOf } from './row-mapping.js';

/** What {@link acquireLeaseSql} takes. */
export type LeaseTake = Readonly<{ partition: string; msId: string; runId: string; leaseTtlMs: number }>;

const RETURN_LEASE = 'RETURNING partition, ms_id, run_id, epoch, renew_seq, lease_ttl_ms, write_seq';

/**
 * Takes a partition's lease by compare-and-set on its epoch: an insert that does nothing
 * when a row exists (`expectedEpoch` null), or an update guarded by the expected epoch.
 * One statement each, so of two racing takers exactly one gets the row back.
 */
export async function acquireLeaseSql(
  db: SqlDb,
  take: LeaseTake,
  expectedEpoch: number | null,
): Promise<PartitionLease | undefined> {
  const rows = await db.auto((sql) =>
    expectedEpoch === null
      ? sql.rows(
          `INSERT INTO partition_owner (partition, ms_id, run_id, epoch, renew_seq, lease_ttl_ms, write_seq)
           VALUES (?, ?, ?, 1, 0, ?, 0) ON CONFLICT (partition) DO NOTHING ${RETURN_LEASE}`,
          [take.partition, take.msId, take.runId, take.leaseTtlMs],
        )
      : sql.rows(
          `UPDATE partition_owner SET ms_id = ?, run_id = ?, epoch = epoch + 1, renew_seq = 0, lease_ttl_ms = ?
           WHERE partition = ? AND epoch = ? ${RETURN_LEASE}`,
          [take.msId, take.runId, take.leaseTtlMs, take.partition, expectedEpoch],
        ),
  );
  return rows[0] ? leaseOf(rows[0]) : undefined;
}

/** Renews (bumps `renew_seq`) or releases (empties `run_id`) a lease still held by `runId` at `epoch`. */
export async function updateHeldLease(
  db: SqlDb,
  change: 'renew' | 'release',
  held: Readonly<{ partition: string; runId: string; epoch: number }>,
): Promise<boolean> {
  const set = change === 'renew' ? 'renew_seq = renew_seq + 1' : "run_id = ''";
  const n = await db.auto((sql) =>
    sql.run(`UPDATE partition_owner SET ${set} WHERE partition = ? AND run_id = ? AND epoch = ? AND run_id <> ''`, [
      held.partition,
      held.runId,
      held.epoch,
    ]),
  );
  return n > 0;
}
