import { expect } from 'chai';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { LeaseLostError } from '@hafence/core';
import { createSqliteStore, StoreOptionsError } from '@hafence/store-typeorm';
import { hostRecord as record, testDir } from './helpers/records.js';

const dir = testDir('hafence-group-');

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

  /** Writes one record from each of `n` timer callbacks of one loop turn; returns the WAL's growth in bytes. */
  async function walGrowth(file: string, groupCommit: 'microtask' | 'turn' | undefined, n: number): Promise<number> {
    const store = await createSqliteStore({ path: file, ...(groupCommit ? { groupCommit } : {}) });
    try {
      await store.saveResource(record('seed'), null); // the WAL exists
      const before = statSync(`${file}-wal`).size;
      const writes: Promise<boolean>[] = [];
      await new Promise<void>((resolve) => {
        for (let i = 0; i < n; i++)
          setTimeout(() => {
            writes.push(store.saveResource(record(`t${i}`), null));
            if (writes.length === n) resolve();
          }, 0);
      });
      expect((await Promise.all(writes)).every(Boolean)).to.equal(true);
      expect((await store.loadResources()).length).to.equal(n + 1);
      return statSync(`${file}-wal`).size - before;
    } finally {
      await store.close();
    }
  }

  it("groupCommit 'turn': the writes of many timer callbacks of one loop turn share one commit", async () => {
    const own = await walGrowth(join(dir, 'microtask.db'), undefined, 40);
    const shared = await walGrowth(join(dir, 'turn.db'), 'turn', 40);
    // A commit appends the pages it changed to the WAL: 40 commits append the same pages 40 times, one commit once.
    expect(shared * 5).to.be.below(own);
  });

  it('groupCommit other than microtask or turn is refused, naming the option', async () => {
    const bad = createSqliteStore({ path: join(dir, 'bad.db'), groupCommit: 'never' as 'turn' });
    const error = await bad.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(StoreOptionsError);
    expect(String((error as Error).message)).to.contain('groupCommit');
  });
});
