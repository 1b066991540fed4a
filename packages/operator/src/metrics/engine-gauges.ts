import { Counter, Gauge, type Registry } from 'prom-client';
import { PARTITION_STATES } from '@hafence/core';
import type { MetricsBudgetView, MetricsPartitionView, MetricsSource } from './metrics-source.js';

const POWER_STATES = ['ON', 'OFF', 'UNKNOWN'] as const;
const LANES = ['health', 'activity', 'recover', 'fence'] as const;

/** What one scrape reads of the engine's views, shared by the gauges of that scrape. */
export interface Snapshot {
  /** `partition\u0000state` → resources. */
  readonly resources: Map<string, number>;
  readonly power: Record<(typeof POWER_STATES)[number], number>;
  readonly partitions: readonly MetricsPartitionView[];
  readonly budgets: readonly MetricsBudgetView[];
}

/** Reads the engine's views once: its resource counts, or one pass over the resources' details without them. */
export function readSnapshot(source: MetricsSource): Snapshot {
  const resources = new Map<string, number>();
  const power = { ON: 0, OFF: 0, UNKNOWN: 0 };
  const counts = source.resourceCounts?.();
  if (counts) {
    for (const c of counts.byState) resources.set(`${c.partition}\u0000${c.state}`, c.count);
    for (const state of POWER_STATES) power[state] = counts.byPower[state];
  } else {
    for (const r of source.describeResources()) {
      const key = `${r.partition}\u0000${r.state}`;
      resources.set(key, (resources.get(key) ?? 0) + 1);
      if (r.power !== undefined) power[r.power]++;
    }
  }
  return { resources, power, partitions: source.describePartitions(), budgets: source.fenceBudgets() };
}

/**
 * Registers the metrics computed when scraped (gauges, and the scheduler's shed counter)
 * on `registry`; `view` gives the scrape's {@link Snapshot}.
 */
export function registerEngineGauges(registry: Registry, source: MetricsSource, view: () => Snapshot): void {
  const registers = [registry];
  new Gauge({
    name: 'hafence_resources',
    help: 'Resources by partition and HA state (states with no resource are absent)',
    labelNames: ['partition', 'state'],
    registers,
    collect() {
      this.reset();
      for (const [key, n] of view().resources) {
        const cut = key.indexOf('\u0000');
        this.set({ partition: key.slice(0, cut), state: key.slice(cut + 1) }, n);
      }
    },
  });
  new Gauge({
    name: 'hafence_partition_state',
    help: "Each partition's HA state: 1 for its current state, 0 for the others",
    labelNames: ['partition', 'state'],
    registers,
    collect() {
      this.reset();
      for (const p of view().partitions) {
        for (const state of PARTITION_STATES) this.set({ partition: p.id, state }, p.state === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'hafence_hosts_by_power_state',
    help: 'Resources with a power binding, by the power state last read from their controller',
    labelNames: ['state'],
    registers,
    collect() {
      const power = view().power;
      for (const state of POWER_STATES) this.set({ state }, power[state]);
    },
  });
  new Gauge({
    name: 'hafence_scheduler_queued',
    help: 'Jobs waiting for a free lane slot, all lanes',
    registers,
    collect() {
      this.set(source.schedulerStats.queued);
    },
  });
  const shed = new Counter({
    name: 'hafence_scheduler_shed_total',
    help: 'Health checks dropped because the scheduler queue was full',
    registers,
    collect: () => {
      shed.reset();
      shed.inc(source.schedulerStats.shed);
    },
  });
  new Gauge({
    name: 'hafence_lane_busy',
    help: 'Jobs running in each scheduler lane',
    labelNames: ['lane'],
    registers,
    collect() {
      const lanes = source.schedulerStats.lanes;
      for (const lane of LANES) this.set({ lane }, lanes[lane].busy);
    },
  });
  new Gauge({
    name: 'hafence_lane_capacity',
    help: 'Concurrency limit of each scheduler lane',
    labelNames: ['lane'],
    registers,
    collect() {
      const lanes = source.schedulerStats.lanes;
      for (const lane of LANES) this.set({ lane }, lanes[lane].capacity);
    },
  });
  new Gauge({
    name: 'hafence_fence_budget_remaining',
    help: 'Stop commands the fence budget still allows in its window, by scope (global or a partition)',
    labelNames: ['scope'],
    registers,
    collect() {
      this.reset();
      for (const b of view().budgets) this.set({ scope: b.scope }, Math.max(0, b.limit - b.used));
    },
  });
  new Gauge({
    name: 'hafence_fencing_halted',
    help: '1 while the fence budget of a scope holds stop commands (an operator may resume it)',
    labelNames: ['scope'],
    registers,
    collect() {
      this.reset();
      for (const b of view().budgets) this.set({ scope: b.scope }, b.halted ? 1 : 0);
    },
  });
  new Gauge({
    name: 'hafence_partition_lease_held',
    help: 'Several servers: 1 while this server holds the partition lease (absent with one server)',
    labelNames: ['partition'],
    registers,
    collect() {
      this.reset();
      for (const p of view().partitions) if (p.lease) this.set({ partition: p.id }, p.lease.held ? 1 : 0);
    },
  });
  new Gauge({
    name: 'hafence_observe_only',
    help: 'Observe-only: 1 when the engine or any partition sends no power command',
    registers,
    collect() {
      this.set(view().partitions.some((p) => p.observeOnly) ? 1 : 0);
    },
  });
}
