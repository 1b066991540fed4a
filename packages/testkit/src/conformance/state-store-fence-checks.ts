import { LeaseLostError, type WriteOptions } from '@hafence/core';
import { check, show } from './provider-harness.js';
import {
  firstLease,
  leaseRow,
  sampleResource,
  stopAt,
  type ConformanceStore,
  type StateStoreConformanceCheck,
} from './state-store-fixture.js';

const LIMITS = { perPartition: 100, global: 100, windowMs: 1_000 };

/** Runs `write`; it must throw a `LeaseLostError` (by `instanceof` and by code) naming `partition`. */
async function expectLeaseLost(write: () => Promise<unknown>, partition: string, what: string): Promise<void> {
  let thrown: unknown;
  try {
    await write();
  } catch (error) {
    thrown = error;
  }
  check(thrown !== undefined, `${what}: the fenced write succeeded without the lease`);
  check(thrown instanceof LeaseLostError, `${what}: threw ${show(thrown)}, not a LeaseLostError`);
  check(thrown.code === 'HAF2007', `${what}: code ${thrown.code}, expected HAF2007`);
  check(thrown.partition === partition, `${what}: names partition ${thrown.partition}, expected ${partition}`);
}

/** Every fenced write kind once, under `options`. */
const fencedWrites = (store: ConformanceStore, options: WriteOptions, n: number) => [
  () => store.saveResource(sampleResource(`r${n}`, 1), null, options),
  () => store.saveResourceWithEvents(sampleResource(`o${n}`, 1), null, [{ t: n, type: 'outbox' }], options),
  () => store.savePartition({ id: 'p1', state: 'ACTIVE', version: n, since: 0, reason: '' }, null, options),
  () => store.appendFenceLog(stopAt(n), options),
  () => store.takeStop(stopAt(n + 0.5), LIMITS, options),
  () => store.putIntent({ resource: `r${n}`, command: 'off', at: n }, options),
  () => store.clearIntent(`r${n}`, options),
  () => store.recordArm({ resource: `r${n}`, armGen: n, kind: 'arm', at: n }, options),
  () => store.deleteResource(`gone${n}`, options),
];

/** Fenced writes: the holder writes and bumps writeSeq; anyone else gets `LeaseLostError` and writes nothing. */
export const fenceChecks: readonly StateStoreConformanceCheck[] = [
  {
    name: 'fenced writes by the holder succeed and each bumps the lease writeSeq by one',
    run: async ({ store }) => {
      const lease = await firstLease(store, 'p1');
      const fence = { partition: 'p1', epoch: lease.epoch, runId: 'run-a' };
      const writes = fencedWrites(store, { fence }, 1);
      for (const write of writes) await write();
      const after = await leaseRow(store, 'p1');
      check(
        after.writeSeq === lease.writeSeq + writes.length,
        `writeSeq went from ${lease.writeSeq} to ${after.writeSeq} after ${writes.length} fenced writes`,
      );
      check((await store.getResource('r1')) !== undefined, 'the fenced saveResource wrote nothing');
      check((await store.countFenceLog(0)) === 2, 'the fenced appendFenceLog and takeStop did not both append');
    },
  },
  {
    name: 'after another server acquires the partition every fenced write throws LeaseLostError and writes nothing',
    run: async ({ store }) => {
      const lease = await firstLease(store, 'p1');
      const fence = { partition: 'p1', epoch: lease.epoch, runId: 'run-a' };
      await store.saveResource(sampleResource('r9', 1), null, { fence });
      const taken = await store.acquireLease({ partition: 'p1', msId: 'ms-b', runId: 'run-b', leaseTtlMs: 1 }, 1);
      check(taken?.epoch === 2, `the takeover got ${show(taken)}`);
      const before = await leaseRow(store, 'p1');
      for (const [i, write] of fencedWrites(store, { fence }, 2).entries()) {
        await expectLeaseLost(write, 'p1', `fenced write #${i}`);
      }
      await expectLeaseLost(() => store.saveResource(sampleResource('r9', 2), 1, { fence }), 'p1', 'CAS update');
      check((await store.getResource('r2')) === undefined, 'a refused insert landed');
      check((await store.getResource('o2')) === undefined, 'a refused insert with events landed');
      check((await store.listEvents({ limit: 10 })).length === 0, 'the events of a refused write landed');
      check((await store.getResource('r9'))?.version === 1, 'a refused update landed');
      check((await store.countFenceLog(-Infinity)) === 0, 'a refused fence log append or takeStop landed');
      check((await store.listIntents()).length === 0, 'a refused intent landed');
      check((await store.latestArm('r2')) === undefined, 'a refused arm record landed');
      check((await store.loadPartitions()).length === 0, 'a refused partition insert landed');
      check((await leaseRow(store, 'p1')).writeSeq === before.writeSeq, 'a refused write bumped writeSeq');
    },
  },
  {
    name: 'a fenced write on a released lease, a wrong epoch or a partition without a lease throws LeaseLostError',
    run: async ({ store }) => {
      const lease = await firstLease(store, 'p1');
      await expectLeaseLost(
        () =>
          store.putIntent(
            { resource: 'r1', command: 'off', at: 1 },
            { fence: { partition: 'p1', epoch: 2, runId: 'run-a' } },
          ),
        'p1',
        'wrong epoch',
      );
      await expectLeaseLost(
        () =>
          store.putIntent(
            { resource: 'r1', command: 'off', at: 1 },
            { fence: { partition: 'p9', epoch: 1, runId: 'run-a' } },
          ),
        'p9',
        'no lease row',
      );
      check(await store.releaseLease('p1', 'run-a', lease.epoch), 'releaseLease by the holder failed');
      await expectLeaseLost(
        () =>
          store.putIntent(
            { resource: 'r1', command: 'off', at: 1 },
            { fence: { partition: 'p1', epoch: 1, runId: 'run-a' } },
          ),
        'p1',
        'released lease',
      );
      check((await store.listIntents()).length === 0, 'a refused intent landed');
    },
  },
];
