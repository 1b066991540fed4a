import { isDeepStrictEqual } from 'node:util';
import type { StopVerdict } from '@hafence/core';
import { check, show } from './provider-harness.js';
import { peerOf, stopAt, type ConformanceStore, type StateStoreConformanceCheck } from './state-store-fixture.js';

const verdict = (got: StopVerdict, want: StopVerdict, what: string): void =>
  check(isDeepStrictEqual(got, want), `${what}: takeStop answered ${show(got)}, expected ${show(want)}`);

/** Fires `n` takeStop calls at once, alternating over `stores`; returns how many were taken. */
async function stampede(stores: readonly ConformanceStore[], n: number, partitionOf: (i: number) => string) {
  const limits = { perPartition: 5, global: 7, windowMs: 60_000 };
  const calls = Array.from({ length: n }, (_, i) =>
    stores[i % stores.length]!.takeStop(stopAt(1_000 + i, partitionOf(i), `r${i}`), limits),
  );
  return (await Promise.all(calls)).filter((v) => v.taken).length;
}

/** The fence budget's atomic count-and-append: limits, windows, resumes and concurrency. */
export const budgetChecks: readonly StateStoreConformanceCheck[] = [
  {
    name: 'countFenceLog counts entries after `since` (exclusive), per partition or everywhere',
    run: async ({ store }) => {
      for (const [at, p] of [
        [10, 'p1'],
        [20, 'p1'],
        [30, 'p2'],
      ] as const)
        await store.appendFenceLog(stopAt(at, p));
      check((await store.countFenceLog(10)) === 2, 'an entry at `since` was counted, or a later one missed');
      check((await store.countFenceLog(9, 'p1')) === 2, 'the partition count is wrong');
      check((await store.countFenceLog(0, 'p3')) === 0, 'an empty partition counted entries');
    },
  },
  {
    name: 'takeStop refuses at the per-partition limit, naming the partition, and still allows another partition',
    run: async ({ store }) => {
      const limits = { perPartition: 2, global: 10, windowMs: 100 };
      verdict(await store.takeStop(stopAt(1), limits), { taken: true }, 'first stop');
      verdict(await store.takeStop(stopAt(2), limits), { taken: true }, 'second stop');
      verdict(await store.takeStop(stopAt(3), limits), { taken: false, scope: 'p1', count: 2, limit: 2 }, 'third');
      verdict(await store.takeStop(stopAt(4, 'p2'), limits), { taken: true }, 'another partition');
      check((await store.countFenceLog(-Infinity)) === 3, 'a refused stop was appended');
    },
  },
  {
    name: 'takeStop refuses at the global limit across partitions',
    run: async ({ store }) => {
      const limits = { perPartition: 5, global: 2, windowMs: 100 };
      verdict(await store.takeStop(stopAt(1, 'p1'), limits), { taken: true }, 'p1');
      verdict(await store.takeStop(stopAt(2, 'p2'), limits), { taken: true }, 'p2');
      verdict(
        await store.takeStop(stopAt(3, 'p3'), limits),
        { taken: false, scope: 'global', count: 2, limit: 2 },
        'p3',
      );
    },
  },
  {
    name: 'takeStop counts the window strictly: an entry exactly windowMs old no longer counts',
    run: async ({ store }) => {
      const limits = { perPartition: 1, global: 10, windowMs: 100 };
      verdict(await store.takeStop(stopAt(1_000), limits), { taken: true }, 'first');
      verdict(
        await store.takeStop(stopAt(1_099), limits),
        { taken: false, scope: 'p1', count: 1, limit: 1 },
        'one ms inside the window',
      );
      verdict(await store.takeStop(stopAt(1_100), limits), { taken: true }, 'exactly windowMs later');
    },
  },
  {
    name: 'takeStop ignores entries at or before resumedAt, per partition and globally',
    run: async ({ store }) => {
      const base = { perPartition: 1, global: 1, windowMs: 1_000 };
      verdict(await store.takeStop(stopAt(10, 'p1'), base), { taken: true }, 'first');
      const partitionOnly = { ...base, resumedAt: { p1: 10 } };
      verdict(
        await store.takeStop(stopAt(20, 'p1'), partitionOnly),
        { taken: false, scope: 'global', count: 1, limit: 1 },
        'partition resumed, global not',
      );
      const both = { ...base, resumedAt: { p1: 10, global: 10 } };
      verdict(await store.takeStop(stopAt(20, 'p1'), both), { taken: true }, 'both resumed');
      verdict(
        await store.takeStop(stopAt(30, 'p1'), { ...base, resumedAt: { p1: 19, global: 19 } }),
        { taken: false, scope: 'p1', count: 1, limit: 1 },
        'resumed before the last stop',
      );
    },
  },
  {
    name: '20 concurrent takeStop calls on one partition take exactly the per-partition limit',
    run: async ({ store }) => {
      const taken = await stampede([store], 20, () => 'p1');
      check(taken === 5, `${taken} of 20 concurrent stops were taken with a limit of 5`);
      check((await store.countFenceLog(-Infinity)) === 5, 'the fence log does not hold exactly 5 entries');
    },
  },
  {
    name: '20 concurrent takeStop calls over 20 partitions take exactly the global limit',
    run: async ({ store }) => {
      const taken = await stampede([store], 20, (i) => `p${i}`);
      check(taken === 7, `${taken} of 20 concurrent stops were taken with a global limit of 7`);
    },
  },
  {
    name: 'two store instances on one database racing takeStop never exceed the limits',
    run: async (fx) => {
      const peer = await peerOf(fx);
      const onePartition = await stampede([fx.store, peer], 20, () => 'p1');
      check(onePartition === 5, `${onePartition} of 20 stops taken over two instances with a partition limit of 5`);
      const spread = await stampede([fx.store, peer], 20, (i) => `q${i}`);
      check(spread === 2, `${spread} further stops taken over two instances; the global limit left room for 2`);
      check((await peer.countFenceLog(-Infinity)) === 7, 'the peer does not see the 7 stops');
    },
  },
];
