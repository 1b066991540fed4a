import type { Metric } from 'prom-client';
import type { CheckKind } from '@hafence/core';

const KINDS: readonly CheckKind[] = ['health', 'activity'];

/** One value of a metric as prom-client's registry formats it. */
interface MetricValue {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}

/**
 * `hafence_check_duration_seconds`: a histogram by `kind` kept in fixed typed arrays, so an
 * observation (one per check, the engine's hottest path) allocates nothing and hashes no
 * label; prom-client's registry formats it like its own histograms on scrape.
 */
export class CheckHistogram {
  readonly name = 'hafence_check_duration_seconds';
  readonly help = 'Duration of health and activity checks (engine clock), by kind';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly labelNames: readonly string[] = ['kind'];
  private readonly bounds: Float64Array;
  /** Per kind: one count per bound, then the +Inf bucket (not cumulative here). */
  private readonly counts: Float64Array;
  private readonly sums = new Float64Array(KINDS.length);

  /** Builds it with bucket `bounds` (seconds, increasing). */
  constructor(bounds: readonly number[]) {
    this.bounds = Float64Array.from([...bounds].sort((a, b) => a - b));
    this.counts = new Float64Array(KINDS.length * (this.bounds.length + 1));
  }

  /** Records one check of `kind` that took `seconds`. */
  observe(kind: CheckKind, seconds: number): void {
    const k = kind === 'health' ? 0 : 1;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && seconds > b[i]!) i++;
    this.counts[k * (b.length + 1) + i]! += 1;
    this.sums[k]! += seconds;
  }

  /** What the registry formats: cumulative `_bucket`s with `le`, then `_sum` and `_count`, per kind. */
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }> {
    const values: MetricValue[] = [];
    const n = this.bounds.length + 1;
    KINDS.forEach((kind, k) => {
      let total = 0;
      for (let i = 0; i < n; i++) {
        total += this.counts[k * n + i]!;
        const le = i < this.bounds.length ? this.bounds[i]! : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { le, kind }, value: total });
      }
      values.push({ metricName: `${this.name}_sum`, labels: { kind }, value: this.sums[k]! });
      values.push({ metricName: `${this.name}_count`, labels: { kind }, value: total });
    });
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** As prom-client's registry takes it. */
  asMetric(): Metric {
    return this as unknown as Metric;
  }
}
