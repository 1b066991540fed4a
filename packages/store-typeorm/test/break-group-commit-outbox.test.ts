import { expect } from 'chai';
import { join } from 'node:path';
import { createSqliteStore } from '@hafence/store-typeorm';
import { hostRecord as record, testDir } from './helpers/records.js';

const dir = testDir('hafence-break-group-');

/**
 * Issue 13 attack on SQLite group commit with the outbox: a state write with its events that fails inside a group
 * (a lost fence; a lost compare-and-set) must leave neither its row nor its events; the writes beside it commit with
 * theirs. A release event of a write that did not commit would be relayed after a restart for a host never fenced.
 */
describe('break: SQLite group commit, a failing write with outbox events inside a group', () => {
  it('the failed writes leave no outbox event; the others commit theirs, same key or not', async () => {
    const store = await createSqliteStore({ path: join(dir, 'outbox.db') });
    try {
      await store.saveResource(record('x'), null);
      const fence = { partition: 'c1', epoch: 1, runId: 'gone' }; // no owner row: throws LeaseLostError
      const ev = (what: string) => [{ t: 1, type: 'workloads.released', resource: what }];
      const results = await Promise.allSettled([
        store.saveResourceWithEvents(record('a'), null, ev('a')),
        store.saveResourceWithEvents(record('b'), null, ev('b'), { fence }),
        store.saveResourceWithEvents(record('x', 1), 0, ev('x-good')),
        store.saveResourceWithEvents(record('x', 2), 0, ev('x-stale')), // stale compare-and-set: loses
        store.saveResourceWithEvents(record('c'), null, ev('c')),
      ]);
      expect(results.map((r) => r.status)).to.deep.equal([
        'fulfilled',
        'rejected',
        'fulfilled',
        'fulfilled',
        'fulfilled',
      ]);
      const values = results.map((r) => (r.status === 'fulfilled' ? r.value : 'threw'));
      expect(values[3], 'the stale write lost (no ids)').to.equal(undefined);
      const out = await store.listUndelivered({ limit: 100 });
      expect(out.map((e) => (JSON.parse(e.json) as { resource: string }).resource).sort()).to.deep.equal([
        'a',
        'c',
        'x-good',
      ]);
      expect((await store.loadResources()).map((r) => r.key).sort()).to.deep.equal(['host:a', 'host:c', 'host:x']);
      expect((await store.getResource('host:x'))?.version).to.equal(1);
    } finally {
      await store.close();
    }
  });
});
