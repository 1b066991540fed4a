import { HaService, type HaEvent, type Logger, type StateStore } from '@hafence/core';
import { FakeProvider, TestClock } from '@hafence/testkit';
import type { HangingStore } from './hanging-store.js';

/** Options of {@link threeHosts}. */
export interface ThreeHostsOptions {
  /** Several servers: the store is also the coordination store (server ms1). */
  readonly ownership?: boolean;
  readonly logger?: Logger;
  /** The provider's shutdown() never ends. */
  readonly hangShutdown?: boolean;
}

/**
 * A started service over `store` with cluster c1 and hosts h1–h3 on a TestClock; counts provider shutdowns and keeps
 * the events and whether events$ completed.
 */
export async function threeHosts(store: StateStore | HangingStore, options: ThreeHostsOptions = {}) {
  const clock = new TestClock();
  const provider = new FakeProvider({ clock });
  let shutdowns = 0;
  Object.assign(provider, {
    shutdown: async () => {
      shutdowns++;
      if (options.hangShutdown) await new Promise<never>(() => undefined);
    },
  });
  const events: HaEvent[] = [];
  let completed = false;
  const ha = new HaService({
    providers: [provider],
    clock,
    store,
    ...(options.logger ? { logger: options.logger } : {}),
    config: { startupGrace: 0, jitterFraction: 0 },
    ...(options.ownership ? { ownership: { coordination: store as HangingStore, msId: 'ms1', runId: 'ms1-r1' } } : {}),
  });
  ha.events$.subscribe({ next: (e) => events.push(e), complete: () => (completed = true) });
  await ha.start();
  await ha.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
  for (let i = 1; i <= 3; i++) await ha.addResource({ ref: { type: 'host', id: `h${i}` }, partition: 'c1' });
  return { clock, provider, ha, events, completed: () => completed, shutdowns: () => shutdowns };
}
