import type { StatusSnapshot } from '@hafence/operator';

type Resource = StatusSnapshot['resources'][number];
type Partition = StatusSnapshot['partitions'][number];

/** The engine clock of every fixture. */
export const NOW = 1_000_000;

/** A host of partition `partition`, AVAILABLE and ON unless `over` says otherwise. */
export function host(id: string, partition: string, over: Partial<Resource> = {}): Resource {
  return {
    ref: { type: 'host', id },
    partition,
    state: 'AVAILABLE',
    since: NOW - 60_000,
    healthy: true,
    eligible: true,
    power: 'ON',
    maintenance: { inventory: false },
    observeOnly: false,
    timers: {},
    waiting: { for: 'check', at: NOW + 4_000 },
    released: false,
    owned: true,
    ...over,
  };
}

/** An ACTIVE cluster with HA enabled. */
export function cluster(id: string, over: Partial<Partition> = {}): Partition {
  return {
    id,
    kind: 'cluster',
    enabled: true,
    haEnabled: true,
    state: 'ACTIVE',
    since: NOW - 120_000,
    reason: 'conditions hold',
    observeOnly: false,
    members: 2,
    ...over,
  };
}

/** Two clusters of two hosts each, no alerts, no events; `over` replaces whole fields. */
export function snapshot(over: Partial<StatusSnapshot> = {}): StatusSnapshot {
  return {
    now: NOW,
    server: { msId: 'ms-1', observeOnly: false, version: '0.1.0' },
    partitions: [cluster('c1'), cluster('c2')],
    fenceBudgets: [{ scope: 'global', limit: 3, used: 0, windowMs: 3_600_000, halted: false }],
    resources: [host('h1', 'c1'), host('h2', 'c1'), host('h3', 'c2'), host('h4', 'c2')],
    alerts: [],
    timeline: [],
    ...over,
  };
}

/** The `<tr …>` of resource `id` in `html` (its whole row), or undefined. */
export function rowOf(html: string, id: string): string | undefined {
  return html.match(new RegExp(`<tr data-resource="${id}"[^]*?</tr>`))?.[0];
}

/** The `<section class="cluster" …>` of partition `id` in `html`, or undefined. */
export function sectionOf(html: string, id: string): string | undefined {
  return html.match(new RegExp(`<section class="cluster" data-partition="${id}">[^]*?</section>`))?.[0];
}
