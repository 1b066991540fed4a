import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeaseLostError, type ResourceRecord } from '@hafence/core';
import { createSqliteStore } from '@hafence/store-typeorm';

const dir = mkdtempSync(join(tmpdir(), 'hafence-group-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const record = (id: string, version = 0): ResourceRecord => ({
  key: `host:${id}`,
  ref: { type: 'host', id },
  partition: 'c1',
  state: 'NONE',
  version,
  since: 0,
  nextEpisode: 1,
  releasedOutside: false,
  timers: {},
});

describe('SQLite group commit (writes queued together share one transaction)', () => {
  it('commits every concurrent write, each compare-and-set judged on its own', async () => {
    const store = await createSqliteStore({ path: join(dir, 'many.db') });
    try {
      const ids = [...Array(500).keys()].map((i) => `h${i}`);
      const created = await Promise.all(ids.map((id) => store.saveResource(record(id), null)));
      expect(created.every(Boolean)).to.equal(true);
      // In one group: a second create of h0 loses, a stale update loses, a good update wins.
      const [again, stale, good] = await Promise.all([
        store.saveResource(record('h0'), null),
        store.saveResource(record('h1', 2), 1),
        store.saveResource(record('h2', 1), 0),
      ]);
      expect([again, stale, good]).to.deep.equal([false, false, true]);
      expect((await store.loadResources()).length).to.equal(500);
      expect((await store.getResource('host:h2'))?.version).to.equal(1);
    } finally {
      await store.close();
    }
  });

  it('a write that throws fails alone: the writes queued with it are committed', async () => {
    const store = await createSqliteStore({ path: join(dir, 'fail.db') });
    try {
      const fence = { partition: 'c1', epoch: 1, runId: 'gone' }; // no owner row: this write throws
      const results = await Promise.allSettled([
        store.saveResource(record('a'), null),
        store.saveResource(record('b'), null, { fence }),
        store.saveResource(record('c'), null),
      ]);
      expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason).to.be.instanceOf(LeaseLostError);
      expect((await store.loadResources()).map((r) => r.key)).to.deep.equal(['host:a', 'host:c']);
    } finally {
      await store.close();
    }
  });
});
