import type { EngineObserver, HaEvent, PartitionState, PowerState, ResourceState, SchedulerStats } from '@hafence/core';

/** The fields of a resource's detail (`HaService.describeResources()`) the metrics read. */
export interface MetricsResourceView {
  readonly partition: string;
  readonly state: ResourceState;
  /** Power state of its controller as last read; undefined without a power binding. */
  readonly power?: PowerState;
}

/** Resources by partition and state, and by power state (`HaService.resourceCounts()`). */
export interface MetricsResourceCounts {
  /** Only pairs with a resource, in the order a resource of the pair was first added. */
  readonly byState: readonly { readonly partition: string; readonly state: ResourceState; readonly count: number }[];
  readonly byPower: Readonly<Record<PowerState, number>>;
}

/** The fields of a partition's detail (`HaService.describePartitions()`) the metrics read. */
export interface MetricsPartitionView {
  readonly id: string;
  readonly state: PartitionState;
  /** Observe-only, by its own flag, an ancestor's or the whole engine's. */
  readonly observeOnly: boolean;
  /** Several servers only: whether this server holds the partition's lease. */
  readonly lease?: { readonly held: boolean };
}

/** The fields of a fence budget scope (`HaService.fenceBudgets()`) the metrics read. */
export interface MetricsBudgetView {
  readonly scope: string;
  readonly limit: number;
  readonly used: number;
  readonly halted: boolean;
}

/**
 * What {@link createMetrics} needs of an engine: `HaService` has this shape. Gauges read the
 * `describe…` views and `schedulerStats` on each scrape; counters follow `events$` and the
 * `observe` hooks.
 */
export interface MetricsSource {
  /** Every event, in order (with power events joined: `HaServiceOptions.joinPowerEvents`). */
  readonly events$: { subscribe(next: (event: HaEvent) => void): { unsubscribe(): void } };
  readonly schedulerStats: SchedulerStats;
  /** Adds engine hooks; returns their removal. */
  observe(observer: EngineObserver): () => void;
  describeResources(): readonly MetricsResourceView[];
  /**
   * The same counts without a detail per resource (`HaService.resourceCounts()`): read instead of
   * {@link MetricsSource.describeResources} when present, so a scrape of a large engine stays cheap.
   */
  resourceCounts?(): MetricsResourceCounts;
  describePartitions(): readonly MetricsPartitionView[];
  fenceBudgets(): readonly MetricsBudgetView[];
}
