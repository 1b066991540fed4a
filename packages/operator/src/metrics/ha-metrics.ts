import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { CheckKind, CheckResult, HaEvent } from '@hafence/core';
import type { MetricsSource } from './metrics-source.js';
import { readSnapshot, registerEngineGauges, type Snapshot } from './engine-gauges.js';
import { CheckHistogram } from './check-histogram.js';

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /**
   * Also export prom-client's default process metrics (CPU, memory, event loop lag, GC),
   * named `hafence_process_…`, on the same registry. Default false.
   */
  readonly processMetrics?: boolean;
  /** Bucket bounds (seconds) of `hafence_check_duration_seconds`. */
  readonly checkBuckets?: readonly number[];
  /** Bucket bounds (seconds) of `hafence_power_command_duration_seconds`. */
  readonly powerBuckets?: readonly number[];
}

/** Default bucket bounds (seconds) of `hafence_check_duration_seconds`. */
export const DEFAULT_CHECK_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];
/** Default bucket bounds (seconds) of `hafence_power_command_duration_seconds`. */
export const DEFAULT_POWER_BUCKETS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];

const CHECK_KINDS: readonly CheckKind[] = ['health', 'activity'];
const CHECK_RESULTS: readonly CheckResult[] = ['ok', 'failed', 'timeout', 'error'];

/**
 * Prometheus metrics of one engine (the metric names of docs/metrics.md), on a registry of
 * their own (never prom-client's global one). Gauges are computed when scraped, from the
 * engine's views — O(resources) per scrape, nothing per event; counters follow
 * `events$` and the engine's check hooks with constant work per event and no label per
 * host. Build it with {@link createMetrics}.
 */
export class HaMetrics {
  /** The registry holding every metric; `registry.metrics()` is the exposition text. */
  readonly registry = new Registry();
  private readonly checkCounts = new Float64Array(CHECK_KINDS.length * CHECK_RESULTS.length);
  private readonly checkDuration: CheckHistogram;
  private readonly eventsTotal: Counter<'type'>;
  private readonly alertsTotal: Counter<'code' | 'level'>;
  private readonly releasesTotal: Counter<'proof'>;
  private readonly powerTotal: Counter<'driver' | 'action' | 'result'>;
  private readonly powerDuration: Histogram<'driver' | 'action'>;
  private readonly wouldTotal: Counter<'action'>;
  /** Label objects by event type, built once per type (not per event). */
  private readonly typeLabels = new Map<string, { type: string }>();
  private readonly unsubscribe: () => void;
  private readonly unobserve: () => void;
  private snapshot?: Snapshot;
  private closed = false;

  /** Registers every metric and subscribes to `source`; {@link HaMetrics.close} undoes the subscriptions. */
  constructor(
    private readonly source: MetricsSource,
    options: MetricsOptions = {},
  ) {
    const registers = [this.registry];
    registerEngineGauges(this.registry, source, () => this.view());
    const checksTotal = new Counter({
      name: 'hafence_checks_total',
      help: 'Health and activity checks ended, by kind and result (ok, failed, timeout, error)',
      labelNames: ['kind', 'result'],
      registers,
      collect: () => {
        checksTotal.reset();
        CHECK_KINDS.forEach((kind, k) =>
          CHECK_RESULTS.forEach((result, r) =>
            checksTotal.inc({ kind, result }, this.checkCounts[k * CHECK_RESULTS.length + r]!),
          ),
        );
      },
    });
    this.checkDuration = new CheckHistogram(options.checkBuckets ?? DEFAULT_CHECK_BUCKETS);
    this.registry.registerMetric(this.checkDuration.asMetric());
    this.powerTotal = new Counter({
      name: 'hafence_power_commands_total',
      help: 'Power commands (not status reads) by driver, action and result (driver "none": never sent)',
      labelNames: ['driver', 'action', 'result'],
      registers,
    });
    this.powerDuration = new Histogram({
      name: 'hafence_power_command_duration_seconds',
      help: 'Power command duration from leaving the host queue to the answer (engine clock), by driver and action',
      labelNames: ['driver', 'action'],
      buckets: [...(options.powerBuckets ?? DEFAULT_POWER_BUCKETS)],
      registers,
    });
    this.releasesTotal = new Counter({
      name: 'hafence_releases_total',
      help: 'Resources whose workloads were released, by proof (power-off, lease)',
      labelNames: ['proof'],
      registers,
    });
    this.alertsTotal = new Counter({
      name: 'hafence_alerts_total',
      help: 'Alerts raised, by code and level',
      labelNames: ['code', 'level'],
      registers,
    });
    this.wouldTotal = new Counter({
      name: 'hafence_would_power_actions_total',
      help: 'Observe-only: power commands the engine would have sent, by action',
      labelNames: ['action'],
      registers,
    });
    this.eventsTotal = new Counter({
      name: 'hafence_events_total',
      help: 'Events emitted, by type',
      labelNames: ['type'],
      registers,
    });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'hafence_process_' });
    const sub = source.events$.subscribe((e) => this.onEvent(e));
    this.unsubscribe = () => sub.unsubscribe();
    this.unobserve = source.observe({ checkEnded: (kind, result, ms) => this.onCheck(kind, result, ms) });
  }

  /** The exposition format's content type, for the HTTP `Content-Type` header. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format; reads each engine view once. */
  async metrics(): Promise<string> {
    this.snapshot = this.read();
    try {
      return await this.registry.metrics();
    } finally {
      this.snapshot = undefined;
    }
  }

  /** Stops following the engine (events and hooks); the registry keeps its last figures. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.unobserve();
  }

  private onCheck(kind: CheckKind, result: CheckResult, ms: number): void {
    const k = kind === 'health' ? 0 : 1;
    this.checkCounts[k * CHECK_RESULTS.length + CHECK_RESULTS.indexOf(result)]! += 1;
    this.checkDuration.observe(kind, ms / 1000);
  }

  private onEvent(e: HaEvent): void {
    const type: string = e.type;
    let labels = this.typeLabels.get(type);
    if (!labels) this.typeLabels.set(type, (labels = { type }));
    this.eventsTotal.inc(labels);
    if (e.type === 'alert') {
      this.alertsTotal.inc({ code: e.code, level: e.level });
    } else if (e.type === 'workloads.released') {
      this.releasesTotal.inc({ proof: e.proof });
    } else if (e.type === 'power.action') {
      const driver = e.driver ?? 'none';
      this.powerTotal.inc({ driver, action: e.action, result: e.ok ? 'ok' : 'failed' });
      if (e.durationMs !== undefined) this.powerDuration.observe({ driver, action: e.action }, e.durationMs / 1000);
    } else if (e.type === 'would.power.action') {
      this.wouldTotal.inc({ action: e.action });
    }
  }

  private view(): Snapshot {
    return this.snapshot ?? this.read();
  }

  private read(): Snapshot {
    return readSnapshot(this.source);
  }
}

/**
 * Builds the Prometheus metrics of `service` (every name of docs/metrics.md) on a registry
 * of their own. Serve `await metrics.metrics()` with `metrics.contentType`; call
 * `metrics.close()` when the service stops.
 *
 * @example
 * const metrics = createMetrics(ha);
 * const text = await metrics.metrics(); // Prometheus text format
 */
export function createMetrics(service: MetricsSource, options?: MetricsOptions): HaMetrics {
  return new HaMetrics(service, options);
}
