import { check, show } from './provider-harness.js';
import type { ConformanceStore, StateStoreConformanceCheck } from './state-store-fixture.js';

/** Appends events with times `ts` (type `e<t>`), oldest first. */
async function appendAll(store: ConformanceStore, ts: readonly number[]): Promise<void> {
  for (const t of ts) await store.appendEvent({ t, type: `e${t}`, extra: { n: t } } as { t: number; type: string });
}

/** Every stored event's time, oldest first. */
const timesOf = async (store: ConformanceStore): Promise<number[]> =>
  (await store.listEvents({ limit: 1_000 })).map((e) => e.t);

/** The event history: paging by id, retention by time and by row cap. */
export const historyChecks: readonly StateStoreConformanceCheck[] = [
  {
    name: 'listEvents pages by id, oldest first, with the whole event as JSON',
    run: async ({ store }) => {
      await appendAll(store, [5, 6, 7, 8, 9]);
      const first = await store.listEvents({ limit: 2 });
      check(first.length === 2 && first[0]!.t === 5 && first[1]!.t === 6, `first page ${show(first)}`);
      check(first[0]!.id < first[1]!.id, 'ids do not increase');
      check(first[0]!.type === 'e5', `type ${first[0]!.type}`);
      const parsed = JSON.parse(first[0]!.json) as { t: number; type: string; extra: { n: number } };
      check(parsed.t === 5 && parsed.type === 'e5' && parsed.extra.n === 5, `json ${first[0]!.json}`);
      const rest = await store.listEvents({ afterId: first[1]!.id, limit: 10 });
      check(rest.map((e) => e.t).join() === '7,8,9', `the page after id ${first[1]!.id} holds ${show(rest)}`);
      check((await store.listEvents({ afterId: rest[2]!.id, limit: 10 })).length === 0, 'a page past the end');
      check((await store.listEvents({ limit: 0 })).length === 0, 'limit 0 returned events');
    },
  },
  {
    name: 'pruneEvents drops events older than `before` and returns how many went',
    run: async ({ store }) => {
      await appendAll(store, [1, 2, 3, 4]);
      const dropped = await store.pruneEvents({ before: 3, maxRows: 100 });
      check(dropped === 2, `pruneEvents returned ${dropped}, expected 2`);
      check((await timesOf(store)).join() === '3,4', `left ${(await timesOf(store)).join()}`);
    },
  },
  {
    name: 'pruneEvents keeps at most maxRows (the newest), and ids keep growing after it',
    run: async ({ store }) => {
      await appendAll(store, [1, 2, 3, 4, 5]);
      const lastId = (await store.listEvents({ limit: 10 }))[4]!.id;
      check((await store.pruneEvents({ before: 0, maxRows: 2 })) === 3, 'the row cap dropped the wrong count');
      check((await timesOf(store)).join() === '4,5', `left ${(await timesOf(store)).join()}`);
      await appendAll(store, [6]);
      const after = await store.listEvents({ afterId: lastId, limit: 10 });
      check(after.length === 1 && after[0]!.t === 6, `an event appended after pruning got a reused id: ${show(after)}`);
      check((await store.pruneEvents({ before: 0, maxRows: 0 })) === 3, 'maxRows 0 did not drop everything');
      check((await timesOf(store)).length === 0, 'events left after maxRows 0');
    },
  },
  {
    name: 'pruneEvents applies both rules: time first, then the row cap over what is left',
    run: async ({ store }) => {
      await appendAll(store, [1, 2, 3, 4, 5, 6]);
      check((await store.pruneEvents({ before: 3, maxRows: 3 })) === 3, 'wrong count for both rules');
      check((await timesOf(store)).join() === '4,5,6', `left ${(await timesOf(store)).join()}`);
    },
  },
];
