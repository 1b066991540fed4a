import {
  DEFAULT_POWER_POLL_MS,
  fenceByPower,
  recoverByPower,
  delay,
  DriverError,
  systemClock,
  type ActivityResult,
  type Clock,
  type FenceResult,
  type HAProvider,
  type HealthResult,
  type LeaseStatus,
  type PartitionKind,
  type PartitionView,
  type ProviderContext,
  type RecoverResult,
  type ResourceSpec,
  type Verdict,
} from '@hafence/core';
import type { FakePowerDriver } from '../power/fake-power-driver.js';

/** Below this latency (ms) a benchmark fake (`recordCalls: false`) does not listen to the abort signal. */
const QUICK_ANSWER_MS = 1_000;

/** How a scripted action answers. `hang` never answers (until aborted). */
export type Scripted<T extends string> = T | 'hang' | 'throw';

/** A simulated host behind the {@link FakeProvider}. */
export interface FakeHost {
  /** OS dead: health fails, no activity (until a power off/on boots it, unless `stuck`). */
  crashed: boolean;
  /** A reboot does not cure the crash. */
  stuck: boolean;
  /** Only the control connection is down: health fails, activity continues. */
  agentDown: boolean;
  eligible: boolean;
  maintenance: boolean;
  /** Override of the activity verdict (`error`, `hang`…); model-driven when undefined. */
  activity?: Scripted<'active' | 'inactive' | 'error'>;
  /** Override of the health answer; model-driven when undefined. */
  health?: Scripted<'pass' | 'fail'>;
  /** Override of recovery: `fail` answers failure; model-driven (power off/on) when undefined. */
  recover?: Scripted<'ok' | 'fail'>;
  /** Override of fencing; model-driven (power off + verify) when undefined. */
  fence?: Scripted<'off' | 'failed' | 'unreachable'>;
  /** Self-fence lease answer; no lease when undefined. */
  lease?: LeaseStatus;
  /** Booting until this time after a power-on. */
  bootedAt: number;
  wasOff: boolean;
}

/** One provider call, for assertions (single flight, late results). */
export interface FakeCall {
  readonly host: string;
  readonly kind: 'health' | 'activity' | 'recover' | 'fence' | 'lease';
  readonly startedAt: number;
  endedAt?: number;
  aborted: boolean;
}

/** Options of {@link FakeProvider}. */
export interface FakeProviderOptions {
  readonly clock?: Clock;
  readonly resourceType?: string;
  readonly partitionKind?: PartitionKind;
  /** Power driver whose chassis model the hosts' power (recover/fence go through ctx.power). */
  readonly power?: FakePowerDriver;
  /** Answer latency of every call in ms (default 1). */
  readonly latencyMs?: number;
  /** Boot time after a power-on (default 90 s). */
  readonly bootTimeMs?: number;
  /** Members that must be eligible and healthy (or in an episode) for ACTIVE (default 2). */
  readonly minMembers?: number;
  /** Keep a log of calls in {@link FakeProvider.calls} (default true; off for benchmarks). */
  readonly recordCalls?: boolean;
}

/**
 * A scriptable provider over simulated hosts: crash, agent loss, maintenance, and
 * per-call overrides (answers, errors, hangs). Recovery and fencing use the engine's
 * power control, so the fence budget, intents and OFF proof are exercised for real.
 */
export class FakeProvider implements HAProvider {
  readonly resourceType: string;
  readonly partitionKind: PartitionKind;
  readonly calls: FakeCall[] = [];
  private readonly hosts = new Map<string, FakeHost>();
  private readonly clock: Clock;
  private readonly latency: number;
  private readonly bootTime: number;
  private readonly minMembers: number;
  /** The verdict of a partition with enough members. */
  private readonly enough: Verdict;

  /** Builds the provider; hosts are created healthy on first use. */
  constructor(private readonly options: FakeProviderOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.resourceType = options.resourceType ?? 'host';
    this.partitionKind = options.partitionKind ?? 'cluster';
    this.latency = options.latencyMs ?? 1;
    this.bootTime = options.bootTimeMs ?? 90_000;
    this.minMembers = options.minMembers ?? 2;
    this.enough = { ok: true, reason: `at least ${this.minMembers} eligible healthy members` };
  }

  /** The simulated host `id` (created healthy). */
  host(id: string): FakeHost {
    let h = this.hosts.get(id);
    if (!h)
      this.hosts.set(
        id,
        (h = {
          crashed: false,
          stuck: false,
          agentDown: false,
          eligible: true,
          maintenance: false,
          bootedAt: 0,
          wasOff: false,
        }),
      );
    return h;
  }

  /** Calls of `kind` still running for `host`. */
  running(host?: string, kind?: FakeCall['kind']): FakeCall[] {
    return this.calls.filter(
      (c) => c.endedAt === undefined && (!host || c.host === host) && (!kind || c.kind === kind),
    );
  }

  async isEligible(resource: ResourceSpec): Promise<Verdict> {
    const h = this.host(resource.ref.id);
    if (!h.eligible) return { ok: false, reason: 'not eligible (scripted)' };
    // Like a KVM host (docs/behaviour.md#kvm-hosts): a chassis read OFF is not protectable.
    return this.power(resource.ref.id) === 'OFF' ? { ok: false, reason: 'power OFF' } : { ok: true };
  }

  async isInMaintenance(resource: ResourceSpec): Promise<boolean> {
    return this.host(resource.ref.id).maintenance;
  }

  async partitionConditions(view: PartitionView): Promise<Verdict> {
    // Asked at every reassessment (one per cluster per turn of the loop with a change: ~750 per 1,000-host cluster
    // at a cold start), so it stops counting once the rule holds: a full count each time was a seventh of the start-up
    // benchmark's CPU.
    if (this.minMembers <= 0) return this.enough;
    let members = 0;
    for (const m of view.members) {
      if (m.eligible && (m.healthy === true || m.inEpisode) && ++members >= this.minMembers) return this.enough;
    }
    return { ok: false, reason: `${members} eligible healthy members, need ${this.minMembers}` };
  }

  async healthCheck(resource: ResourceSpec, ctx: ProviderContext): Promise<HealthResult> {
    return this.track(resource, 'health', ctx, async (h) => {
      if (h.health !== undefined)
        return this.scripted(h.health, ctx, (v) => ({ healthy: v === 'pass', reason: `scripted ${v}` }));
      const power = this.power(resource.ref.id);
      this.noticePower(h, power);
      if (power === 'OFF') return { healthy: false, reason: 'powered off' };
      if (h.crashed) return { healthy: false, reason: 'agent disconnected (host crashed)' };
      if (h.agentDown) return { healthy: false, reason: 'agent disconnected' };
      if (this.clock.now() < h.bootedAt) return { healthy: false, reason: 'booting' };
      return { healthy: true };
    });
  }

  async activityCheck(resource: ResourceSpec, ctx: ProviderContext): Promise<ActivityResult> {
    return this.track(resource, 'activity', ctx, async (h) => {
      if (h.activity !== undefined)
        return this.scripted(h.activity, ctx, (v) => ({ verdict: v, reason: `scripted ${v}` }));
      const alive = this.power(resource.ref.id) === 'ON' && !h.crashed;
      return alive
        ? { verdict: 'active', reason: 'heartbeat advancing' }
        : { verdict: 'inactive', reason: 'heartbeat unchanged' };
    });
  }

  async recover(resource: ResourceSpec, ctx: ProviderContext): Promise<RecoverResult> {
    return this.track(resource, 'recover', ctx, async (h) => {
      if (h.recover !== undefined)
        return this.scripted(h.recover, ctx, (v) => ({ ok: v === 'ok', reason: `scripted ${v}` }));
      // The KVM provider's own steps: verify ON, off, verify OFF by polling, on.
      const result = await recoverByPower(ctx, this.clock, DEFAULT_POWER_POLL_MS);
      if (result.ok) this.booted(h);
      return result;
    });
  }

  async fence(resource: ResourceSpec, ctx: ProviderContext): Promise<FenceResult> {
    return this.track(resource, 'fence', ctx, async (h) => {
      if (h.fence !== undefined) return this.scripted(h.fence, ctx, (v) => ({ outcome: v, reason: `scripted ${v}` }));
      return fenceByPower(ctx, this.clock, DEFAULT_POWER_POLL_MS);
    });
  }

  async selfFenceLease(resource: ResourceSpec, ctx: ProviderContext): Promise<LeaseStatus> {
    return this.track(resource, 'lease', ctx, async (h) => h.lease ?? { state: 'none', reason: 'no lease armed' });
  }

  private power(id: string): 'ON' | 'OFF' {
    return this.options.power ? this.options.power.host(id).power : 'ON';
  }

  private noticePower(h: FakeHost, power: 'ON' | 'OFF'): void {
    if (power === 'OFF') h.wasOff = true;
    else if (h.wasOff) this.booted(h);
  }

  private booted(h: FakeHost): void {
    h.wasOff = false;
    h.bootedAt = this.clock.now() + this.bootTime;
    if (!h.stuck) h.crashed = false;
  }

  private async scripted<TV extends string, TR>(
    value: Scripted<TV>,
    ctx: ProviderContext,
    answer: (v: TV) => TR,
  ): Promise<TR> {
    if (value === 'hang') {
      await delay(this.clock, 365 * 24 * 3_600_000, ctx.signal);
    }
    if (value === 'throw') throw new DriverError('fake', 'provider', 'scripted failure');
    return answer(value as TV);
  }

  private async track<T>(
    resource: ResourceSpec,
    kind: FakeCall['kind'],
    ctx: ProviderContext,
    fn: (h: FakeHost) => Promise<T>,
  ): Promise<T> {
    if (this.options.recordCalls === false) {
      // Benchmarks: no call record, so no abort listener to keep it up to date. An answer quicker than
      // QUICK_ANSWER_MS waits on a plain timer and leaves the signal alone, like a provider answering from memory:
      // there is nothing worth aborting, and the bench then counts the engine's cost rather than the fake's.
      if (this.latency >= QUICK_ANSWER_MS) await delay(this.clock, this.latency, ctx.signal);
      else if (this.latency > 0) await new Promise<void>((resolve) => this.clock.setTimeout(resolve, this.latency));
      return fn(this.host(resource.ref.id));
    }
    const call: FakeCall = { host: resource.ref.id, kind, startedAt: this.clock.now(), aborted: false };
    this.calls.push(call);
    const onAbort = () => (call.aborted = true);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      if (this.latency > 0) await delay(this.clock, this.latency, ctx.signal);
      return await fn(this.host(resource.ref.id));
    } finally {
      call.endedAt = this.clock.now();
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }
}
