import { check, show } from './provider-harness.js';
import { firstLease, leaseRow, peerOf, type StateStoreConformanceCheck } from './state-store-fixture.js';

const take = (runId: string, partition = 'p1') => ({ partition, msId: `ms-${runId}`, runId, leaseTtlMs: 5_000 });

/** Partition leases: first acquire, compare-and-set races, renew, release. */
export const leaseChecks: readonly StateStoreConformanceCheck[] = [
  {
    name: 'the first acquire gets epoch 1; a second acquire expecting no row is refused',
    run: async ({ store }) => {
      const lease = await firstLease(store, 'p1');
      const want = { partition: 'p1', msId: 'ms-run-a', runId: 'run-a', epoch: 1, renewSeq: 0, leaseTtlMs: 10_000 };
      check(
        Object.entries(want).every(([k, v]) => (lease as unknown as Record<string, unknown>)[k] === v),
        `first lease ${show(lease)}`,
      );
      check(lease.writeSeq === 0, `a fresh lease has writeSeq ${lease.writeSeq}`);
      check((await store.acquireLease(take('run-b'), null)) === undefined, 'a second first-acquire won');
      check((await leaseRow(store, 'p1')).runId === 'run-a', 'the refused acquire changed the row');
    },
  },
  {
    name: 'two concurrent acquires with the same expected epoch: exactly one wins',
    run: async ({ store }) => {
      const first = await Promise.all([
        store.acquireLease(take('run-a'), null),
        store.acquireLease(take('run-b'), null),
      ]);
      check(first.filter(Boolean).length === 1, `first acquires: ${show(first)}`);
      const next = await Promise.all([store.acquireLease(take('run-c'), 1), store.acquireLease(take('run-d'), 1)]);
      const won = next.filter((l) => l !== undefined);
      check(won.length === 1 && won[0]!.epoch === 2, `takeovers at epoch 1: ${show(next)}`);
      check((await leaseRow(store, 'p1')).runId === won[0]!.runId, 'the row is not the winner');
      check((await store.acquireLease(take('run-e'), 1)) === undefined, 'an acquire with a stale epoch won');
    },
  },
  {
    name: 'two store instances on one database racing acquireLease: exactly one wins',
    run: async (fx) => {
      const peer = await peerOf(fx);
      for (let round = 0; round < 5; round++) {
        const expected = round === 0 ? null : round;
        const got = await Promise.all([
          fx.store.acquireLease(take(`a${round}`), expected),
          peer.acquireLease(take(`b${round}`), expected),
        ]);
        const won = got.filter((l) => l !== undefined);
        check(won.length === 1 && won[0]!.epoch === round + 1, `round ${round}: ${show(got)}`);
      }
    },
  },
  {
    name: 'renewLease by the holder bumps renewSeq; renew or release by a non-holder returns false',
    run: async ({ store }) => {
      await firstLease(store, 'p1');
      check(await store.renewLease('p1', 'run-a', 1), 'renew by the holder failed');
      check(await store.renewLease('p1', 'run-a', 1), 'second renew by the holder failed');
      check((await leaseRow(store, 'p1')).renewSeq === 2, 'renewSeq did not count two renewals');
      check(!(await store.renewLease('p1', 'run-b', 1)), 'renew by another run succeeded');
      check(!(await store.renewLease('p1', 'run-a', 2)), 'renew with a wrong epoch succeeded');
      check(!(await store.renewLease('p2', 'run-a', 1)), 'renew of a partition without lease succeeded');
      check(!(await store.releaseLease('p1', 'run-b', 1)), 'release by another run succeeded');
      check(!(await store.releaseLease('p1', 'run-a', 0)), 'release with a wrong epoch succeeded');
      check((await leaseRow(store, 'p1')).runId === 'run-a', 'a refused release changed the row');
    },
  },
  {
    name: 'a released lease keeps its epoch and writeSeq and can be acquired with that epoch',
    run: async ({ store }) => {
      await firstLease(store, 'p1');
      await store.putIntent(
        { resource: 'r1', command: 'off', at: 1 },
        { fence: { partition: 'p1', epoch: 1, runId: 'run-a' } },
      );
      check(await store.releaseLease('p1', 'run-a', 1), 'release by the holder failed');
      const released = await leaseRow(store, 'p1');
      check(released.runId === '' && released.epoch === 1, `released row ${show(released)}`);
      check(!(await store.renewLease('p1', 'run-a', 1)), 'renew after the release succeeded');
      check(!(await store.releaseLease('p1', 'run-a', 1)), 'a second release succeeded');
      const next = await store.acquireLease(take('run-b'), 1);
      check(next?.epoch === 2 && next.runId === 'run-b', `acquire after release got ${show(next)}`);
      check(next.writeSeq === 1 && next.renewSeq === 0, `writeSeq/renewSeq not carried/reset: ${show(next)}`);
    },
  },
];
