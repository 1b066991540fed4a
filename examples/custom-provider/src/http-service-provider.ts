import {
  abortReason,
  delay,
  type ActivityResult,
  type FenceResult,
  type HAProvider,
  type HealthResult,
  type PartitionView,
  type ProviderContext,
  type RecoverResult,
  type ResourceSpec,
  type Verdict,
} from '@hafence/core';
// The safe power recipe (off → verify OFF by polling → on; fence = status, off, poll).
import { DEFAULT_POWER_POLL_MS, fenceByPower, recoverByPower } from '@hafence/core';

/** What the provider needs from the HTTP layer (the global `fetch` by default; a fake in tests). */
export type FetchLike = (
  url: string,
  init: { method?: string; signal: AbortSignal },
) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

/** Options of {@link HttpServiceProvider}. */
export interface HttpServiceProviderOptions {
  /** Base URL of each service instance, by resource id. */
  readonly baseUrl: (id: string) => string | undefined;
  /** Minimum healthy instances for HA in a partition (default 2). */
  readonly minInstances?: number;
  /** How long the activity check watches the request counter (default 15 000 ms). */
  readonly activityWindowMs?: number;
  /** Interval between status reads while the power recipe verifies OFF (default 1 000 ms). */
  readonly powerPollMs?: number;
  readonly fetch?: FetchLike;
}

/**
 * A third-party hafence provider: HA for instances of an HTTP service. Health is
 * `GET /healthz`; activity is the `requests_total` counter of `GET /metrics` moving
 * (an answer that fails is `error`, never "no activity"). Recovery and fencing use the
 * core power recipe through the engine's power control, whose verified OFF is the only
 * proof the engine accepts; an instance without a power controller is recovered by
 * `POST /restart` and cannot be fenced.
 */
export class HttpServiceProvider implements HAProvider {
  readonly resourceType = 'http-service';
  readonly partitionKind = 'cluster' as const;
  private readonly fetch: FetchLike;

  /** Builds the provider. */
  constructor(private readonly options: HttpServiceProviderOptions) {
    this.fetch = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  }

  async isEligible(resource: ResourceSpec): Promise<Verdict> {
    return this.options.baseUrl(resource.ref.id) ? { ok: true } : { ok: false, reason: 'no base URL' };
  }

  async isInMaintenance(resource: ResourceSpec): Promise<boolean> {
    return resource.attributes?.maintenance === true;
  }

  async partitionConditions(view: PartitionView): Promise<Verdict> {
    const n = view.members.filter((m) => m.eligible && (m.healthy === true || m.inEpisode)).length;
    const need = this.options.minInstances ?? 2;
    return n >= need
      ? { ok: true, reason: `${n} instances` }
      : { ok: false, reason: `${n} healthy instances, need ${need}` };
  }

  async healthCheck(resource: ResourceSpec, ctx: ProviderContext): Promise<HealthResult> {
    const r = await this.call(resource, '/healthz', 'GET', ctx.signal);
    return r.ok ? { healthy: true } : { healthy: false, reason: r.reason };
  }

  async activityCheck(resource: ResourceSpec, ctx: ProviderContext): Promise<ActivityResult> {
    const first = await this.requests(resource, ctx.signal);
    if (first === undefined) return { verdict: 'error', reason: 'metrics unreadable' };
    await delay(ctx.clock, this.options.activityWindowMs ?? 15_000, ctx.signal);
    const second = await this.requests(resource, ctx.signal);
    if (second === undefined) return { verdict: 'error', reason: 'metrics unreadable' };
    return second !== first
      ? { verdict: 'active', reason: `requests ${first} → ${second}` }
      : { verdict: 'inactive', reason: `requests stuck at ${first}` };
  }

  async recover(resource: ResourceSpec, ctx: ProviderContext): Promise<RecoverResult> {
    if (ctx.power) return recoverByPower(ctx, ctx.clock, this.options.powerPollMs ?? DEFAULT_POWER_POLL_MS);
    const r = await this.call(resource, '/restart', 'POST', ctx.signal);
    return r.ok ? { ok: true, reason: 'restarted' } : { ok: false, reason: r.reason };
  }

  async fence(_resource: ResourceSpec, ctx: ProviderContext): Promise<FenceResult> {
    return fenceByPower(ctx, ctx.clock, this.options.powerPollMs ?? DEFAULT_POWER_POLL_MS);
  }

  private async requests(resource: ResourceSpec, signal: AbortSignal): Promise<number | undefined> {
    const r = await this.call(resource, '/metrics', 'GET', signal);
    const m = r.ok ? /^requests_total\s+(\d+)/m.exec(r.body) : null;
    return m ? Number(m[1]) : undefined;
  }

  private async call(
    resource: ResourceSpec,
    path: string,
    method: string,
    signal: AbortSignal,
  ): Promise<{ ok: true; body: string } | { ok: false; reason: string }> {
    const base = this.options.baseUrl(resource.ref.id);
    if (!base) return { ok: false, reason: 'no base URL' };
    try {
      const res = await this.fetch(`${base}${path}`, { method, signal });
      return res.ok
        ? { ok: true, body: await res.text() }
        : { ok: false, reason: `${method} ${path}: HTTP ${res.status}` };
    } catch (err) {
      if (signal.aborted) throw abortReason(signal); // the engine gave up on this call: say so, do not report a result
      return { ok: false, reason: `${method} ${path}: ${(err as Error).message}` };
    }
  }
}
