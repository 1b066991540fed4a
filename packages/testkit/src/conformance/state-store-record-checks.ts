import { isDeepStrictEqual } from 'node:util';
import { check, show } from './provider-harness.js';
import { sampleResource, samplePartition, type StateStoreConformanceCheck } from './state-store-fixture.js';

const same = (a: unknown, b: unknown, what: string): void =>
  check(isDeepStrictEqual(a, b), `${what}: got ${show(a)}, expected ${show(b)}`);

/** Compare-and-set of resources and partitions, delete, intents and arm records. */
export const recordChecks: readonly StateStoreConformanceCheck[] = [
  {
    name: 'saveResource with null inserts once; a second insert of the key returns false',
    run: async ({ store }) => {
      check((await store.saveResource(sampleResource('r1', 1), null)) === true, 'first insert returned false');
      check((await store.saveResource(sampleResource('r1', 7), null)) === false, 'a second insert returned true');
      same(await store.getResource('r1'), sampleResource('r1', 1), 'getResource after the refused insert');
      same(await store.loadResources(), [sampleResource('r1', 1)], 'loadResources');
    },
  },
  {
    name: 'saveResource updates with the version read and refuses a stale version without writing',
    run: async ({ store }) => {
      await store.saveResource(sampleResource('r1', 1), null);
      check((await store.saveResource(sampleResource('r1', 2), 1)) === true, 'update with the read version failed');
      check((await store.saveResource(sampleResource('r1', 3), 1)) === false, 'update with a stale version succeeded');
      check((await store.saveResource(sampleResource('r2', 2), 1)) === false, 'update of a missing key succeeded');
      same(await store.getResource('r1'), sampleResource('r1', 2), 'record after the stale update');
      check((await store.getResource('r2')) === undefined, 'the update of a missing key created it');
    },
  },
  {
    name: 'savePartition is a compare-and-set on version too',
    run: async ({ store }) => {
      check((await store.savePartition(samplePartition('p1', 1), null)) === true, 'first insert returned false');
      check((await store.savePartition(samplePartition('p1', 5), null)) === false, 'a second insert returned true');
      check((await store.savePartition(samplePartition('p1', 2), 1)) === true, 'update with the read version failed');
      check((await store.savePartition(samplePartition('p1', 3), 1)) === false, 'stale update succeeded');
      same(await store.loadPartitions(), [samplePartition('p1', 2)], 'loadPartitions');
    },
  },
  {
    name: 'deleteResource drops the record and its intent',
    run: async ({ store }) => {
      await store.saveResource(sampleResource('r1', 1), null);
      await store.saveResource(sampleResource('r2', 1), null);
      await store.putIntent({ resource: 'r1', command: 'off', at: 5 });
      await store.putIntent({ resource: 'r2', command: 'reset', at: 6 });
      await store.deleteResource('r1');
      check((await store.getResource('r1')) === undefined, 'the record is still there');
      same(await store.listIntents(), [{ resource: 'r2', command: 'reset', at: 6 }], 'intents after the delete');
    },
  },
  {
    name: 'putIntent replaces the resource intent; clearIntent removes it',
    run: async ({ store }) => {
      await store.putIntent({ resource: 'r1', command: 'off', at: 5 });
      await store.putIntent({ resource: 'r1', command: 'cycle', at: 8 });
      same(await store.listIntents(), [{ resource: 'r1', command: 'cycle', at: 8 }], 'intents after the replace');
      await store.clearIntent('r1');
      same(await store.listIntents(), [], 'intents after clearIntent');
    },
  },
  {
    name: 'recordArm accepts only an increasing armGen; latestArm returns the latest',
    run: async ({ store }) => {
      check((await store.latestArm('r1')) === undefined, 'latestArm of a fresh resource is defined');
      check(await store.recordArm({ resource: 'r1', armGen: 2, kind: 'arm', at: 1 }), 'first arm refused');
      check(!(await store.recordArm({ resource: 'r1', armGen: 2, kind: 'disarm', at: 2 })), 'equal armGen accepted');
      check(!(await store.recordArm({ resource: 'r1', armGen: 1, kind: 'disarm', at: 3 })), 'lower armGen accepted');
      same(await store.latestArm('r1'), { resource: 'r1', armGen: 2, kind: 'arm', at: 1 }, 'latestArm after refusals');
      check(await store.recordArm({ resource: 'r1', armGen: 3, kind: 'disarm', at: 4 }), 'higher armGen refused');
      same(await store.latestArm('r1'), { resource: 'r1', armGen: 3, kind: 'disarm', at: 4 }, 'latestArm');
      check(await store.recordArm({ resource: 'r2', armGen: 1, kind: 'arm', at: 5 }), 'another resource refused');
    },
  },
  {
    name: 'members: renewMember inserts or updates by runId, removeMember retires the run',
    run: async ({ store }) => {
      await store.renewMember({ msId: 'ms1', runId: 'a', renewSeq: 1 });
      await store.renewMember({ msId: 'ms2', runId: 'b', renewSeq: 1, reach: { p1: 0.5 } });
      await store.renewMember({ msId: 'ms1', runId: 'a', renewSeq: 2 });
      const byRun = (await store.listMembers()).sort((x, y) => x.runId.localeCompare(y.runId));
      same(
        byRun,
        [
          { msId: 'ms1', runId: 'a', renewSeq: 2 },
          { msId: 'ms2', runId: 'b', renewSeq: 1, reach: { p1: 0.5 } },
        ],
        'members',
      );
      await store.removeMember('a');
      same(
        (await store.listMembers()).map((m) => m.runId),
        ['b'],
        'members after removeMember',
      );
    },
  },
];
