import type {
  CoordinationStore,
  FenceLogEntry,
  PartitionLease,
  PartitionRecord,
  ResourceRecord,
  StateStore,
} from '@hafence/core';
import { check, ConformanceSkip } from './provider-harness.js';

/** A store under test: both contracts, as every hafence store implements them. */
export type ConformanceStore = StateStore & CoordinationStore;

/** What a state-store conformance check runs against: an empty store, and how to close it. */
export interface StateStoreFixture {
  /** A fresh, empty store. */
  readonly store: ConformanceStore;
  /**
   * Another store on the same database, as a second management server (or process) would
   * open it; the cross-instance checks are skipped without it.
   */
  openPeer?(): Promise<ConformanceStore>;
  /** Closes the store(s) and frees the database. */
  close?(): Promise<void>;
}

/** Builds a fresh fixture per check. */
export type StateStoreFixtureFactory = () => StateStoreFixture | Promise<StateStoreFixture>;

/** One check of the store contract: resolves when the store conforms, throws `ConformanceFailure` when not. */
export interface StateStoreConformanceCheck {
  readonly name: string;
  run(fixture: StateStoreFixture): Promise<void>;
}

/** A realistic resource record, version `version`. */
export function sampleResource(key: string, version: number, partition = 'p1'): ResourceRecord {
  return {
    key,
    ref: { type: 'host', id: key },
    partition,
    state: 'SUSPECT',
    version,
    since: 1_000 + version,
    episode: {
      id: 3,
      openedAt: 900,
      released: false,
      checks: version,
      activeResults: 0,
      inactiveStreak: 2,
      errorStreak: 0,
      recoverAttempts: 0,
      degradedAlerted: false,
      ownOff: true,
    },
    nextEpisode: 4,
    releasedOutside: false,
    timers: { activityAt: 5_000, leaseAt: 7_500 },
  };
}

/** A partition record, version `version`. */
export function samplePartition(id: string, version: number): PartitionRecord {
  return { id, state: 'ACTIVE', version, since: 10 * version, reason: `v${version}`, cooldownUntil: 99 };
}

/** A stop command at `at` in `partition`. */
export const stopAt = (at: number, partition = 'p1', resource = 'r1'): FenceLogEntry => ({
  at,
  partition,
  resource,
  command: 'off',
  episode: 1,
});

/** Takes `partition` for run `runId` (first lease) and checks it was granted. */
export async function firstLease(store: ConformanceStore, partition: string, runId = 'run-a'): Promise<PartitionLease> {
  const lease = await store.acquireLease({ partition, msId: `ms-${runId}`, runId, leaseTtlMs: 10_000 }, null);
  check(lease !== undefined, `acquireLease(${partition}, null) on an empty store was refused`);
  return lease;
}

/** The lease row of `partition`, or a failure. */
export async function leaseRow(store: ConformanceStore, partition: string): Promise<PartitionLease> {
  const lease = (await store.listLeases()).find((l) => l.partition === partition);
  check(lease !== undefined, `listLeases() has no row for ${partition}`);
  return lease;
}

/** The fixture's peer store, or a skip when it has none. */
export async function peerOf(fx: StateStoreFixture): Promise<ConformanceStore> {
  if (!fx.openPeer) throw new ConformanceSkip('the fixture has no openPeer');
  return fx.openPeer();
}
