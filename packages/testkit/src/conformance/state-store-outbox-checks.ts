import { check, show } from './provider-harness.js';
import {
  peerOf,
  sampleResource,
  type ConformanceStore,
  type StateStoreConformanceCheck,
} from './state-store-fixture.js';

/** An event of the outbox, with a payload to find in its JSON. */
const ev = (t: number, type = `e${t}`) => ({ t, type, n: t }) as { t: number; type: string };

/** Every undelivered row (of `partition`, or all), oldest first, as `t`s. */
const undeliveredTimes = async (store: ConformanceStore, partition?: string): Promise<number[]> =>
  (await store.listUndelivered({ ...(partition === undefined ? {} : { partition }), limit: 10_000 })).map((e) => e.t);

/** Writes resource `key` (insert) with `events`; fails unless the write was taken. */
async function insertWith(
  store: ConformanceStore,
  key: string,
  events: ReadonlyArray<{ t: number; type: string }>,
  partition = 'p1',
): Promise<number[]> {
  const ids = await store.saveResourceWithEvents(sampleResource(key, 1, partition), null, events);
  check(ids !== undefined, `saveResourceWithEvents(${key}, null) on a fresh key was refused`);
  return ids;
}

/**
 * The outbox (docs/behaviour.md#persistence): the events of a state write are written in its transaction as
 * undelivered rows of its partition, relayed in write order until marked delivered, and part of the event history.
 */
export const outboxChecks: readonly StateStoreConformanceCheck[] = [
  {
    name: 'saveResourceWithEvents writes the record and its events together: increasing ids, undelivered, in the history',
    run: async ({ store }) => {
      const ids = await insertWith(store, 'r1', [ev(5), ev(6, 'second')]);
      check(ids.length === 2 && ids[0]! < ids[1]!, `ids ${show(ids)}: two, increasing in the order of the events`);
      check((await store.getResource('r1'))?.version === 1, 'the record was not written');
      const rows = await store.listUndelivered({ limit: 10 });
      check(rows.map((r) => r.id).join() === ids.join(), `undelivered ${show(rows)}, expected ids ${show(ids)}`);
      check(rows[1]!.type === 'second' && rows[1]!.t === 6, `row ${show(rows[1])}`);
      const parsed = JSON.parse(rows[0]!.json) as { t: number; type: string; n: number };
      check(parsed.t === 5 && parsed.type === 'e5' && parsed.n === 5, `json ${rows[0]!.json}`);
      const history = await store.listEvents({ limit: 10 });
      check(history.map((e) => e.id).join() === ids.join(), `history ${show(history)}: the same rows`);
      const update = await store.saveResourceWithEvents(sampleResource('r1', 2), 1, [ev(7)]);
      check(update?.length === 1 && update[0]! > ids[1]!, `the update's ids ${show(update)} do not follow ${ids[1]}`);
      check((await store.getResource('r1'))?.version === 2, 'the compare-and-set update was not written');
    },
  },
  {
    name: 'a saveResourceWithEvents that loses its compare-and-set writes neither the record nor its events',
    run: async ({ store }) => {
      await insertWith(store, 'r1', []);
      check((await store.saveResourceWithEvents(sampleResource('r1', 3), 2, [ev(1)])) === undefined, 'stale update');
      check((await store.saveResourceWithEvents(sampleResource('r1', 9), null, [ev(2)])) === undefined, 'insert');
      check((await store.saveResourceWithEvents(sampleResource('r2', 2), 1, [ev(3)])) === undefined, 'missing key');
      check((await store.getResource('r1'))?.version === 1, 'a refused write changed the record');
      check((await store.getResource('r2')) === undefined, 'an update of a missing key inserted it');
      check((await store.listEvents({ limit: 10 })).length === 0, 'the events of a refused write were stored');
      check((await store.listUndelivered({ limit: 10 })).length === 0, 'the events of a refused write are relayed');
    },
  },
  {
    name: 'without events saveResourceWithEvents writes the record alone and resolves to no ids',
    run: async ({ store }) => {
      const ids = await insertWith(store, 'r1', []);
      check(ids.length === 0, `ids ${show(ids)} for no events`);
      check((await store.getResource('r1'))?.version === 1, 'the record was not written');
      check((await store.listEvents({ limit: 10 })).length === 0, 'an event row appeared');
    },
  },
  {
    name: 'listUndelivered keys rows by partition in write order and pages by id',
    run: async ({ store }) => {
      await insertWith(store, 'a1', [ev(1), ev(2)], 'pa');
      await insertWith(store, 'b1', [ev(3)], 'pb');
      await insertWith(store, 'a2', [ev(4)], 'pa');
      await store.appendEvent(ev(5)); // an event no state write caused: history only
      check(
        (await undeliveredTimes(store, 'pa')).join() === '1,2,4',
        `pa: ${show(await undeliveredTimes(store, 'pa'))}`,
      );
      check((await undeliveredTimes(store, 'pb')).join() === '3', `pb: ${show(await undeliveredTimes(store, 'pb'))}`);
      check((await undeliveredTimes(store, 'none')).length === 0, 'rows for a partition that wrote nothing');
      check((await undeliveredTimes(store)).join() === '1,2,3,4', `all: ${show(await undeliveredTimes(store))}`);
      const first = await store.listUndelivered({ partition: 'pa', limit: 2 });
      check(first.map((e) => e.t).join() === '1,2', `first page ${show(first)}`);
      const rest = await store.listUndelivered({ partition: 'pa', afterId: first[1]!.id, limit: 2 });
      check(rest.map((e) => e.t).join() === '4', `the page after id ${first[1]!.id}: ${show(rest)}`);
      check((await store.listUndelivered({ limit: 0 })).length === 0, 'limit 0 returned rows');
    },
  },
  {
    name: 'markDelivered takes rows out of the relay, keeps them in the history, and ignores unknown ids',
    run: async ({ store }) => {
      const ids = await insertWith(store, 'r1', [ev(1), ev(2), ev(3)]);
      await store.markDelivered([ids[0]!, ids[2]!, ids[2]! + 1_000_000]);
      check((await undeliveredTimes(store)).join() === '2', `undelivered ${show(await undeliveredTimes(store))}`);
      await store.markDelivered([ids[0]!]); // again: harmless
      await store.markDelivered([]);
      check((await undeliveredTimes(store)).join() === '2', 'a repeated or empty mark changed the relay');
      const history = (await store.listEvents({ limit: 10 })).map((e) => e.t);
      check(history.join() === '1,2,3', `history ${show(history)}: delivered rows must stay`);
    },
  },
  {
    name: 'markDelivered of more rows than one statement binds (1,200) marks them all',
    run: async ({ store }) => {
      const all: number[] = [];
      for (let k = 0; k < 12; k++) {
        const events = Array.from({ length: 100 }, (_, i) => ev(k * 100 + i));
        all.push(...(await insertWith(store, `r${k}`, events)));
      }
      check(new Set(all).size === 1_200, `${new Set(all).size} distinct ids for 1,200 events`);
      await store.markDelivered(all.slice(0, 1_150));
      check((await undeliveredTimes(store)).length === 50, `${(await undeliveredTimes(store)).length} left, not 50`);
      await store.markDelivered(all);
      check((await undeliveredTimes(store)).length === 0, 'rows left undelivered');
    },
  },
  {
    name: 'pruneEvents never drops an undelivered outbox row; once delivered it goes like any other',
    run: async ({ store }) => {
      const [old] = await insertWith(store, 'r1', [ev(1)]);
      for (const t of [2, 3, 20, 21]) await store.appendEvent(ev(t));
      const dropped = await store.pruneEvents({ before: 10, maxRows: 1 });
      check(dropped === 3, `pruneEvents returned ${dropped}, expected 3 (t 2, 3, 20)`);
      const left = (await store.listEvents({ limit: 10 })).map((e) => e.t);
      check(left.join() === '1,21', `left ${show(left)}: the undelivered row and the newest`);
      check((await undeliveredTimes(store)).join() === '1', 'the undelivered row left the relay');
      await store.markDelivered([old!]);
      check((await store.pruneEvents({ before: 10, maxRows: 0 })) === 2, 'maxRows 0 after delivery');
      check((await store.listEvents({ limit: 10 })).length === 0, 'events left after maxRows 0');
    },
  },
  {
    name: 'two concurrent writes from one version: one wins, and only its events are stored',
    run: async ({ store }) => {
      await insertWith(store, 'r1', []);
      const results = await Promise.all(
        [1, 2].map((k) => store.saveResourceWithEvents(sampleResource('r1', 2), 1, [ev(k, `from-${k}`)])),
      );
      check(results.filter((r) => r !== undefined).length === 1, `results ${show(results)}: exactly one must win`);
      const winner = results[0] !== undefined ? 'from-1' : 'from-2';
      const stored = (await store.listEvents({ limit: 10 })).map((e) => e.type);
      check(stored.join() === winner, `stored ${show(stored)}, expected only ${winner}`);
    },
  },
  {
    name: 'undelivered rows written by one instance are relayed and marked by another on the same database',
    run: async (fx) => {
      const peer = await peerOf(fx);
      const ids = await insertWith(fx.store, 'r1', [ev(1), ev(2)]);
      const seen = await peer.listUndelivered({ partition: 'p1', limit: 10 });
      check(seen.map((e) => e.id).join() === ids.join(), `the peer relays ${show(seen)}, expected ids ${show(ids)}`);
      await peer.markDelivered(ids);
      check((await undeliveredTimes(fx.store)).length === 0, "the peer's marks are not seen by the writer");
    },
  },
];
