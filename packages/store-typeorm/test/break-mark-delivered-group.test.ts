import { expect } from 'chai';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { createSqliteStore } from '@hafence/store-typeorm';
import { hostRecord as record, testDir } from './helpers/records.js';

/** A raw second connection (better-sqlite3, this package's driver) to hold the write lock. */
const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => {
  exec(sql: string): void;
  close(): void;
};

const dir = testDir('hafence-break-marks-');
let n = 0;
const file = () => join(dir, `marks-${++n}.db`);
const ev = (what: string, count = 1) =>
  Array.from({ length: count }, (_, i) => ({ t: i, type: 'resource.transition', resource: what }));

type Mode = 'microtask' | 'turn';

async function undeliveredIds(path: string, mode: Mode): Promise<number[]> {
  const s = await createSqliteStore({ path, groupCommit: mode });
  try {
    return (await s.listUndelivered({ limit: 100_000 })).map((e) => e.id);
  } finally {
    await s.close();
  }
}

/**
 * Breaker: markDelivered(ids) may share a group commit with the writes queued beside it. A mark that resolved must be
 * durable (not shown by listUndelivered after a close and reopen); a mark that did not land must reject.
 */
for (const mode of ['microtask', 'turn'] as const) {
  describe(`break: SQLite markDelivered in a group commit (groupCommit '${mode}')`, () => {
    it('marks interleaved with saveResourceWithEvents: after reopen exactly the unmarked rows remain', async () => {
      const path = file();
      const s = await createSqliteStore({ path, groupCommit: mode });
      const first: number[] = [];
      for (let i = 0; i < 10; i++)
        first.push(...((await s.saveResourceWithEvents(record(`a${i}`), null, ev(`a${i}`, 3))) ?? []));
      expect(first.length).to.equal(30);
      const marked = first.filter((_, i) => i % 2 === 0);
      const jobs: Array<Promise<unknown>> = [];
      for (let i = 0; i < 10; i++) {
        jobs.push(s.markDelivered(marked.slice(i * 1, i * 1 + 1)));
        jobs.push(s.saveResourceWithEvents(record(`b${i}`), null, ev(`b${i}`, 2)));
        jobs.push(s.markDelivered(marked.slice(10 + i * 0.5, 10 + i * 0.5 + 1)));
      }
      jobs.push(s.markDelivered(marked));
      const results = await Promise.all(jobs);
      const fresh = results.filter((r): r is number[] => Array.isArray(r)).flat();
      expect(fresh.length).to.equal(20);
      const live = (await s.listUndelivered({ limit: 100_000 })).map((e) => e.id);
      await s.close();
      const expected = [...first.filter((id) => !marked.includes(id)), ...fresh].sort((a, b) => a - b);
      expect(live, 'before close').to.deep.equal(expected);
      expect(await undeliveredIds(path, mode), 'after reopen').to.deep.equal(expected);
    });

    it('a lost fence and a lost compare-and-set in the same group as marks: the marks still land', async () => {
      const path = file();
      const s = await createSqliteStore({ path, groupCommit: mode });
      await s.saveResource(record('x'), null);
      const ids = (await s.saveResourceWithEvents(record('m'), null, ev('m', 10))) ?? [];
      const fence = { partition: 'c1', epoch: 1, runId: 'gone' };
      const settled = await Promise.allSettled([
        s.markDelivered(ids.slice(0, 3)),
        s.saveResourceWithEvents(record('b'), null, ev('b'), { fence }), // LeaseLostError
        s.markDelivered(ids.slice(3, 6)),
        s.saveResourceWithEvents(record('x', 2), 0, ev('x-good')),
        s.saveResourceWithEvents(record('x', 3), 0, ev('x-stale')), // stale: loses
        s.saveResourceWithEvents(record('x', 4), 7, ev('x-stale2')),
        s.markDelivered(ids.slice(6, 8)),
        s.saveResource(record('y'), null, { fence }), // LeaseLostError
        s.markDelivered([ids[8]!]),
      ]);
      const status = settled.map((r) => r.status);
      expect(status[1]).to.equal('rejected');
      expect(status[7]).to.equal('rejected');
      const markOk = [0, 2, 6, 8].every((i) => status[i] === 'fulfilled');
      await s.close();
      const left = await undeliveredIds(path, mode);
      const mIds = left.filter((id) => ids.includes(id));
      if (markOk) expect(mIds, 'resolved marks are durable').to.deep.equal([ids[9]]);
      else expect.fail(`a mark rejected beside a failing write: ${JSON.stringify(status)}`);
      expect(left.length, 'the good write`s event stays undelivered').to.equal(2);
    });

    it('a write whose event cannot be serialised (BigInt) in the same group as marks', async () => {
      const path = file();
      const s = await createSqliteStore({ path, groupCommit: mode });
      const ids = (await s.saveResourceWithEvents(record('m'), null, ev('m', 4))) ?? [];
      const bad = [{ t: 1, type: 'resource.transition', big: 10n }] as unknown as ReturnType<typeof ev>;
      const settled = await Promise.allSettled([
        s.markDelivered(ids.slice(0, 2)),
        s.saveResourceWithEvents(record('bad'), null, bad),
        s.markDelivered(ids.slice(2, 3)),
        s.saveResourceWithEvents(record('ok'), null, ev('ok')),
      ]);
      const status = settled.map((r) => r.status);
      if (process.env.BREAK_VERBOSE) console.log(mode, status);
      await s.close();
      const left = await undeliveredIds(path, mode);
      const landed = (i: number[]) => i.every((id) => !left.includes(id));
      if (status[0] === 'fulfilled') expect(landed(ids.slice(0, 2)), 'first mark resolved: durable').to.equal(true);
      if (status[2] === 'fulfilled') expect(landed(ids.slice(2, 3)), 'second mark resolved: durable').to.equal(true);
      expect(left.includes(ids[3]!), 'the unmarked row stays').to.equal(true);
      if (status[3] === 'fulfilled') expect(left.length, 'the ok write`s event is there').to.equal(2);
    });

    it('unknown ids, duplicates and 3,000 ids in one call', async () => {
      const path = file();
      const s = await createSqliteStore({ path, groupCommit: mode });
      const ids: number[] = [];
      for (let i = 0; i < 5; i++)
        ids.push(...((await s.saveResourceWithEvents(record(`h${i}`), null, ev(`h${i}`, 700))) ?? []));
      expect(ids.length).to.equal(3_500);
      const keep = new Set(ids.filter((_, i) => i % 7 === 3));
      const mark = ids.filter((id) => !keep.has(id));
      const big = [...mark, ...mark.slice(0, 1_300), 9_999_999, -1, 0, 2 ** 31];
      const p1 = s.markDelivered(big);
      const p2 = s.saveResourceWithEvents(record('late'), null, ev('late', 2));
      const p3 = s.markDelivered([]);
      const [, late] = await Promise.all([p1, p2, p3]);
      await s.close();
      const left = await undeliveredIds(path, mode);
      expect(left).to.deep.equal([...[...keep].sort((a, b) => a - b), ...(late ?? [])]);
    });

    it('a mark queued right before close(): it lands or its caller sees an error', async () => {
      const path = file();
      const s = await createSqliteStore({ path, groupCommit: mode });
      const ids = (await s.saveResourceWithEvents(record('m'), null, ev('m', 5))) ?? [];
      const mark = s.markDelivered(ids.slice(0, 3)).then(
        () => 'ok' as const,
        () => 'rejected' as const,
      );
      const write = s.saveResourceWithEvents(record('w'), null, ev('w')).then(
        () => 'ok' as const,
        () => 'rejected' as const,
      );
      await s.close();
      const [how, wrote] = await Promise.all([mark, write]);
      const left = await undeliveredIds(path, mode);
      if (how === 'ok') expect(left.filter((id) => ids.includes(id))).to.deep.equal(ids.slice(3));
      else expect(left.filter((id) => ids.includes(id))).to.deep.equal(ids);
      expect(left.length).to.equal(wrote === 'ok' ? 3 : 2);
    });
    it('the write lock held by another connection: marks beside a write either land or reject', async () => {
      const path = file();
      const s = await createSqliteStore({ path, groupCommit: mode, busyTimeoutMs: 20 });
      const ids = (await s.saveResourceWithEvents(record('m'), null, ev('m', 4))) ?? [];
      const peer = new Database(path);
      peer.exec('BEGIN IMMEDIATE');
      let outcome: Array<'ok' | 'rejected'>;
      try {
        outcome = await Promise.all(
          [
            s.markDelivered(ids.slice(0, 2)),
            s.saveResourceWithEvents(record('w'), null, ev('w')),
            s.markDelivered(ids.slice(2, 3)),
          ].map((p) =>
            (p as Promise<unknown>).then(
              () => 'ok' as const,
              () => 'rejected' as const,
            ),
          ),
        );
      } finally {
        peer.exec('ROLLBACK');
        peer.close();
      }
      if (process.env.BREAK_VERBOSE) console.log(mode, outcome);
      await s.close();
      const left = await undeliveredIds(path, mode);
      // The store recovers: a retry of the marks on a reopened store lands.
      const again = await createSqliteStore({ path, groupCommit: mode });
      await Promise.all([again.markDelivered(ids.slice(0, 3)), again.saveResource(record('z'), null)]);
      await again.close();
      expect((await undeliveredIds(path, mode)).filter((id) => ids.includes(id))).to.deep.equal([ids[3]]);
      if (outcome[0] === 'ok') expect(left, 'first mark resolved').to.not.include.members(ids.slice(0, 2));
      else expect(left, 'first mark rejected').to.include.members(ids.slice(0, 2));
      if (outcome[2] === 'ok') expect(left, 'second mark resolved').to.not.include(ids[2]);
      else expect(left, 'second mark rejected').to.include(ids[2]);
      expect(left).to.include(ids[3]);
      expect(left.length - (outcome[0] === 'ok' ? 0 : 2) - (outcome[2] === 'ok' ? 0 : 1) - 1).to.equal(
        outcome[1] === 'ok' ? 1 : 0,
      );
    });
  });
}
