import type { HaEvent, StateStore } from '@hafence/core';
import type { ResourceHistory } from './resource-history.js';

/** How many of the newest stored events are read to seed the recent transitions. */
const SEED_EVENTS = 2000;
const PAGE = 1000;

/**
 * Seeds `history` with the newest stored transitions and releases, so a restarted server
 * still shows them. The store pages forwards only, so the newest id is found first by
 * probing (doubling, then bisecting: about 2·log2(newest id) one-row reads), then the
 * last {@link SEED_EVENTS} ids are read in pages.
 */
export async function seedHistory(store: Pick<StateStore, 'listEvents'>, history: ResourceHistory): Promise<void> {
  const newest = await newestId(store);
  if (newest === undefined) return;
  const events: HaEvent[] = [];
  let after = Math.max(0, newest - SEED_EVENTS);
  for (;;) {
    const page = await store.listEvents({ afterId: after, limit: PAGE });
    for (const e of page) if (e.id <= newest) events.push(JSON.parse(e.json) as HaEvent);
    if (page.length < PAGE || page.at(-1)!.id >= newest) break;
    after = page.at(-1)!.id;
  }
  history.seed(events);
}

async function newestId(store: Pick<StateStore, 'listEvents'>): Promise<number | undefined> {
  const any = async (after: number) => (await store.listEvents({ afterId: after, limit: 1 }))[0]?.id;
  if ((await any(0)) === undefined) return undefined;
  let lo = 0; // an event exists above lo
  let hi = 1024;
  while ((await any(hi)) !== undefined) {
    lo = hi;
    hi *= 2;
  }
  // an event above lo, none above hi
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await any(mid)) !== undefined) lo = mid;
    else hi = mid;
  }
  return any(lo);
}
