import type { HaEvent, MemoryStateStore } from '@hafence/core';
import { createFakeCluster, type FakeCluster, type FakeClusterOptions } from '@hafence/testkit';

/** One minute in ms. */
export const MIN = 60_000;

/** The transitions of one host as `FROM→TO` strings. */
export function path(events: readonly HaEvent[], host: string): string[] {
  return events.flatMap((e) => (e.type === 'resource.transition' && e.resource === host ? [`${e.from}→${e.to}`] : []));
}

/** The `workloads.released` events of one host. */
export function released(events: readonly HaEvent[], host: string): HaEvent[] {
  return events.filter((e) => e.type === 'workloads.released' && e.resource === host);
}

/** Stop commands in the fence log. */
export function stops(c: FakeCluster): number {
  return (c.store as MemoryStateStore).fenceEntries().length;
}

/** Alert codes raised for one host. */
export function alertCodes(events: readonly HaEvent[], host: string): string[] {
  return events.flatMap((e) => (e.type === 'alert' && e.resource === host ? [e.code] : []));
}

/** A 6-host fake cluster without startup grace, advanced until everyone is AVAILABLE. */
export async function cluster(options: FakeClusterOptions = {}): Promise<FakeCluster> {
  const c = await createFakeCluster({ hosts: 6, ...options, config: { startupGrace: 0, ...options.config } });
  await c.clock.advance(MIN);
  return c;
}
