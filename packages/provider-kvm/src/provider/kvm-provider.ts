import {
  fenceByPower,
  recoverByPower,
  TimeoutError,
  type AlertCode,
  type ActivityResult,
  type Clock,
  type FenceResult,
  type HAProvider,
  type HealthResult,
  type LeaseStatus,
  type PartitionView,
  type PowerState,
  type ProviderContext,
  type RecoverResult,
  type ResourceSpec,
  type ResourceState,
  type Verdict,
} from '@hafence/core';
import { withClockSignal } from '@hafence/core/internal';
import type { AgentHealth, HeartbeatObservation } from '../ports.js';
import { armGenOf, sameHeartbeat } from '../agent/heartbeat-file.js';
import { MemoryArmRecords, type ArmRecord, type ArmRecords } from './arm-records.js';
import { CheckerPool } from './checker-pool.js';
import { kvmProviderConfig, type KvmProviderConfig, type KvmProviderOptions } from './kvm-options.js';
import { LeaseTracker } from './lease-tracker.js';
import { VolumeWatch, type VolumeSample } from './volume-watch.js';

/** An alert raised by the provider (e.g. a checker that cannot read the shared mount). */
export interface KvmAlert {
  readonly host: string;
  /** Stable code (docs/behaviour.md#scenarios): `storage-failing` or `checker-excluded`. */
  readonly code: AlertCode;
  readonly message: string;
  readonly at: number;
}

type Ctx = Omit<ProviderContext, 'power' | 'state'>;

const EPISODE_STATES: readonly ResourceState[] = ['SUSPECT', 'CHECKING', 'RECOVERING', 'DEGRADED'];

/**
 * The KVM host provider (docs/behaviour.md#kvm-hosts): eligibility, the cluster rule, health by agent
 * connectivity, a relative activity check run by an AVAILABLE neighbour, recovery and
 * fencing by verified power, and the self-fence lease proof. It reaches the world only
 * through its ports (`AgentConnectivity`, `NeighborExecutor`, `KvmInventory`).
 *
 * @example
 * const provider = new KvmProvider({ agents, neighbors, inventory, powerState: (h) => power.state(h) });
 * createHaContainer({ providers: [provider], ... });
 */
export class KvmProvider implements HAProvider {
  readonly resourceType: string;
  readonly partitionKind = 'cluster' as const;
  private readonly config: KvmProviderConfig;
  private readonly pool = new CheckerPool();
  private readonly listeners = new Set<(alert: KvmAlert) => void>();
  private readonly storageAlerted = new Set<string>();
  /** The `armGen` last sent to each host's agent, until a health answer shows it applied. */
  private readonly armRequested = new Map<string, number>();
  /** Observe-only: the arm (true) or disarm (false) last logged as withheld per host, so it is logged once. */
  private readonly armWithheld = new Map<string, boolean>();
  private readonly armRecords: ArmRecords;
  private readonly volumes: VolumeWatch;
  private readonly volumesRefreshedAt = new Map<string, number>();
  private readonly volumeRefreshFailing = new Set<string>();
  private tracker: LeaseTracker | undefined;

  /** Validates the options (`ConfigError` when invalid). */
  constructor(private readonly options: KvmProviderOptions) {
    this.config = kvmProviderConfig(options);
    this.resourceType = this.config.resourceType;
    this.armRecords = options.armRecords ?? new MemoryArmRecords();
    this.volumes = new VolumeWatch(options.volumes, this.config.maxVolumesPerCheck);
    if (options.clock) this.tracker = new LeaseTracker(options.clock.now(), this.config.leaseMarginMs, this.armRecords);
  }

  /** Subscribes to alerts; returns the unsubscribe function. */
  onAlert(listener: (alert: KvmAlert) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async isEligible(resource: ResourceSpec, ctx: ProviderContext): Promise<Verdict> {
    const host = resource.ref.id;
    const facts = this.options.inventory.facts(host);
    if (!facts) return { ok: false, reason: 'unknown to the KVM inventory' };
    if (facts.hypervisor.toUpperCase() !== 'KVM')
      return { ok: false, reason: `hypervisor ${facts.hypervisor} is not KVM` };
    if (!facts.sharedPoolMounted) return { ok: false, reason: 'shared pool not mounted' };
    const power = this.powerOf(resource);
    if (power === 'OFF') return { ok: false, reason: 'power OFF' };
    if (power === 'UNKNOWN') {
      const leases = this.leases(ctx);
      // Right after a (re)start nothing is known yet: ask the agent once rather than flap to UNSUPPORTED.
      if (leases.latest(host) === undefined && !leases.silenced(host))
        await this.healthCheck(resource, ctx).catch(() => undefined);
      return (await leases.armed(host))
        ? { ok: true, reason: 'lease-only: controller unreachable, protected by the armed self-fence lease' }
        : { ok: false, reason: 'no reachable controller and no armed self-fence lease' };
    }
    return { ok: true };
  }

  async isInMaintenance(resource: ResourceSpec): Promise<boolean> {
    return this.options.inventory.facts(resource.ref.id)?.maintenance ?? false;
  }

  async partitionConditions(view: PartitionView): Promise<Verdict> {
    this.pool.update(view);
    const disabled = [view.partition, ...view.ancestors].find((p) => !p.enabled);
    if (disabled) return { ok: false, reason: `${disabled.kind} ${disabled.id} is disabled` };
    // A member in an open failure episode still counts (docs/behaviour.md#partitions Decision).
    const members = view.members.filter((m) => m.eligible && (m.healthy === true || m.inEpisode)).length;
    return members >= 2
      ? { ok: true, reason: `${members} eligible members` }
      : { ok: false, reason: `${members} eligible healthy host(s), need 2` };
  }

  async healthCheck(resource: ResourceSpec, ctx: ProviderContext): Promise<HealthResult> {
    const host = resource.ref.id;
    const leases = this.leases(ctx);
    this.updateLeaseMode(resource, ctx);
    if (leases.silenced(host))
      return { healthy: false, reason: 'agent not contacted: the episode depends on the self-fence lease' };
    leases.requestSent(host, this.clock(ctx).now());
    let answer: AgentHealth;
    try {
      answer = await this.ask(ctx, this.config.replyTimeoutMs, (s) => this.options.agents.health(host, s));
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      answer = { connected: false, detail: (err as Error).message };
    }
    if (answer.heartbeat) leases.agentReport(host, answer.heartbeat, this.clock(ctx).now());
    if (answer.connected && answer.armGen !== undefined) leases.armApplied(host, answer.armGen);
    if (answer.storageOk === true && this.pool.readmit(host))
      (this.options.logger ?? ctx.logger).info(`${host} reads the shared mount again: readmitted as a checker`, {
        host,
      });
    // docs/behaviour.md#kvm-hosts: while a management server reaches it, the agent keeps its VMs and
    // reports the storage failure in its health answer — one alert per failure spell.
    if (answer.connected && answer.storageOk === false && !this.storageAlerted.has(host)) {
      this.storageAlerted.add(host);
      this.alert(
        host,
        'storage-failing',
        `${host} reports its shared storage failing${detailOf(answer.detail, 'reports its shared storage failing')}; it keeps its VMs while reachable`,
        ctx,
      );
    } else if (answer.storageOk === true) {
      this.storageAlerted.delete(host);
    }
    if (!answer.connected)
      return { healthy: false, reason: `agent not connected${answer.detail ? `: ${answer.detail}` : ''}` };
    this.volumes.forget(host);
    await this.syncArm(resource, ctx, answer);
    await this.refreshVolumes(host, ctx);
    return answer.storageOk === false
      ? { healthy: true, reason: `agent connected; storage failing: ${answer.detail ?? 'unknown'}` }
      : { healthy: true };
  }

  /**
   * Reads the suspect's heartbeat and VM volumes twice, a window apart, on a neighbour
   * (docs/behaviour.md#kvm-hosts). A changed heartbeat or a written volume is activity; a volume that could
   * not be read makes the check an `error`, never `inactive`.
   */
  async activityCheck(resource: ResourceSpec, ctx: ProviderContext): Promise<ActivityResult> {
    this.updateLeaseMode(resource, ctx);
    const host = resource.ref.id;
    const window = this.config.activityWindowMs;
    const sample = this.volumes.sample(host);
    const read = await this.readVia(resource, window, ctx, sample?.volumes);
    if (!read.obs.ok)
      return {
        verdict: 'error',
        reason: `${read.checker ? `${read.checker}: ` : ''}${read.obs.reason}: ${read.obs.detail}`,
      };
    const { first, second, volumes } = read.obs;
    const by = `read by ${read.checker}`;
    const since =
      sample && volumes ? this.volumes.note(host, sample.volumes, volumes, this.clock(ctx).now(), window) : [];
    if (!sameHeartbeat(first, second))
      return { verdict: 'active', reason: `heartbeat #${first.counter} → #${second.counter} in ${window} ms (${by})` };
    let seen = sample === undefined ? 'VM volumes unknown' : 'no running VMs listed';
    if (sample && sample.volumes.length > 0) {
      const asked = sample.volumes.length;
      if (!volumes)
        return {
          verdict: 'error',
          reason: `heartbeat unchanged, but ${read.checker} did not read the ${asked} VM volume(s) it was asked to (an agent without volume reads?)`,
        };
      const written = volumes.changed.length > 0 ? volumes.changed : since;
      if (written.length > 0) {
        const more = written.length > 1 ? ` and ${written.length - 1} more` : '';
        const when = volumes.changed.length > 0 ? `within ${window} ms` : 'since the previous check';
        return {
          verdict: 'active',
          reason: `VM volume ${written[0]}${more} written ${when}, heartbeat #${second.counter} unchanged (${by})`,
        };
      }
      if (volumes.failed.length > 0) {
        const f = volumes.failed[0]!;
        return {
          verdict: 'error',
          reason: `heartbeat unchanged, but ${volumes.failed.length} of ${asked} VM volume(s) could not be read (${f.volume}: ${f.detail}): that proves nothing (${by})`,
        };
      }
      seen = `${volumes.read} VM volume(s) unchanged${volumes.skipped > 0 ? `, ${volumes.skipped} on other storage not read` : ''}${sample.listed > asked ? ` (sampled ${asked} of ${sample.listed})` : ''}`;
    }
    return { verdict: 'inactive', reason: `heartbeat #${second.counter} unchanged over ${window} ms; ${seen} (${by})` };
  }

  async recover(_resource: ResourceSpec, ctx: ProviderContext): Promise<RecoverResult> {
    return recoverByPower(ctx, this.clock(ctx), this.config.powerPollMs);
  }

  async fence(_resource: ResourceSpec, ctx: ProviderContext): Promise<FenceResult> {
    return fenceByPower(ctx, this.clock(ctx), this.config.powerPollMs);
  }

  /**
   * Outside FENCING/FAILED: whether the host is protected by an armed lease (`pending`).
   * In FENCING/FAILED: the lease proof of docs/behaviour.md#kvm-hosts, from a fresh heartbeat read and the peers.
   */
  async selfFenceLease(resource: ResourceSpec, ctx: ProviderContext): Promise<LeaseStatus> {
    const host = resource.ref.id;
    const leases = this.leases(ctx);
    this.updateLeaseMode(resource, ctx);
    if (ctx.state !== 'FENCING' && ctx.state !== 'FAILED') {
      const r = leases.latest(host);
      return r && (await leases.armed(host))
        ? {
            state: 'pending',
            deadline: this.clock(ctx).now() + leases.span(r),
            reason: 'armed: lease-only protection',
          }
        : { state: 'none', reason: 'no armed self-fence lease' };
    }
    if (!this.options.neighbors.canReach)
      return { state: 'none', reason: 'the neighbour executor cannot ask peers (condition 4): lease unprovable' };
    const sample = this.volumes.sample(host);
    const fresh = await this.readVia(resource, 0, ctx, sample?.volumes);
    const now = this.clock(ctx).now();
    const evidence = await leases.evaluate(host, now);
    const quiet = this.volumesQuiet(host, sample, fresh.obs, now, leases);
    if (evidence.kind === 'pending')
      return {
        state: 'pending',
        deadline: Math.max(evidence.deadline, quiet.kind === 'pending' ? quiet.deadline : 0),
        reason: evidence.reason,
      };
    if (!fresh.obs.ok)
      return { state: 'none', reason: `heartbeat unreadable (${fresh.obs.reason}: ${fresh.obs.detail})` };
    if (evidence.kind === 'none') return { state: 'none', reason: evidence.reason };
    if (quiet.kind === 'none') return { state: 'none', reason: quiet.reason };
    if (quiet.kind === 'pending') return { state: 'pending', deadline: quiet.deadline, reason: quiet.reason };
    const peers = await this.askPeers(resource, ctx);
    if (peers.answered === 0) return { state: 'none', reason: 'no reachable peer agent to confirm the loss' };
    if (peers.cannotReach * 2 > peers.answered) {
      return {
        state: 'expired',
        evidence: `${evidence.evidence}; ${peers.cannotReach} of ${peers.answered} reachable peers cannot reach it`,
      };
    }
    return {
      state: 'none',
      reason: `${peers.answered - peers.cannotReach} of ${peers.answered} reachable peers still reach it`,
    };
  }

  /**
   * Lease condition on the VM volumes: no volume of the host written (or unreadable)
   * within the lease span — a host whose VMs write is alive, whatever its heartbeat says.
   * Volumes never listed, or none, leave the lease to the heartbeat.
   */
  private volumesQuiet(
    host: string,
    sample: VolumeSample | undefined,
    obs: HeartbeatObservation,
    now: number,
    leases: LeaseTracker,
  ): { kind: 'ok' } | { kind: 'none'; reason: string } | { kind: 'pending'; deadline: number; reason: string } {
    if (!sample || sample.volumes.length === 0 || !obs.ok) return { kind: 'ok' };
    if (!obs.volumes)
      return { kind: 'none', reason: 'the checker did not read the VM volumes: a live host cannot be ruled out' };
    const since = this.volumes.note(host, sample.volumes, obs.volumes, now, 0);
    if (obs.volumes.failed.length > 0)
      return {
        kind: 'none',
        reason: `VM volume ${obs.volumes.failed[0]!.volume} unreadable (${obs.volumes.failed[0]!.detail}): a live host cannot be ruled out`,
      };
    if (since.length > 0)
      return { kind: 'none', reason: `VM volume ${since[0]} written since the last read: the host is alive` };
    const r = leases.latest(host);
    const span = r ? leases.span(r) : 0;
    const quietSince = this.volumes.quietSince(host) ?? now;
    return now - quietSince >= span
      ? { kind: 'ok' }
      : {
          kind: 'pending',
          deadline: quietSince + span,
          reason: `VM volumes quiet only since ${now - quietSince} ms of the ${span} ms span`,
        };
  }

  /** Reads the suspect's heartbeat on the first neighbour that can; mount-unreadable checkers are excluded. */
  private async readVia(
    resource: ResourceSpec,
    windowMs: number,
    ctx: ProviderContext,
    volumes?: readonly string[],
  ): Promise<{ obs: HeartbeatObservation; checker?: string }> {
    const host = resource.ref.id;
    const leases = this.leases(ctx);
    const checkers = this.pool.candidates(resource.partition, host).filter((c) => !leases.silenced(c));
    for (const checker of checkers) {
      const obs = await this.observe(checker, host, windowMs, ctx, volumes);
      // A checker whose read fails or hangs past the reply timeout cannot read the mount.
      if (!obs.ok && (obs.reason === 'mount-unreadable' || obs.reason === 'timeout')) {
        if (this.pool.exclude(checker, obs.detail))
          this.alert(
            checker,
            'checker-excluded',
            `${checker} cannot read the shared mount${detailOf(obs.detail, 'cannot read the shared mount')}: excluded as a checker until it can read again`,
            ctx,
          );
        continue;
      }
      if (obs.ok) {
        const at = this.clock(ctx).now();
        leases.heartbeatRead(host, [
          { record: obs.first, at: at - windowMs },
          { record: obs.second, at },
        ]);
      }
      return { obs, checker };
    }
    const detail =
      checkers.length === 0
        ? 'no AVAILABLE neighbour can check it'
        : 'no AVAILABLE neighbour could read the shared mount';
    return { obs: { ok: false, reason: 'error', detail } };
  }

  private async observe(
    checker: string,
    suspect: string,
    windowMs: number,
    ctx: ProviderContext,
    volumes?: readonly string[],
  ): Promise<HeartbeatObservation> {
    this.leases(ctx).requestSent(checker, this.clock(ctx).now());
    const timeout = windowMs + this.config.replyTimeoutMs;
    try {
      return await this.ask(ctx, timeout, (s) =>
        volumes && volumes.length > 0
          ? this.options.neighbors.readHeartbeat(checker, suspect, windowMs, s, volumes)
          : this.options.neighbors.readHeartbeat(checker, suspect, windowMs, s),
      );
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      return err instanceof TimeoutError
        ? { ok: false, reason: 'timeout', detail: `no reply from ${checker} within ${timeout} ms` }
        : { ok: false, reason: 'error', detail: (err as Error).message };
    }
  }

  /** Condition 4: asks every other member's agent whether it can reach the suspect. */
  private async askPeers(
    resource: ResourceSpec,
    ctx: ProviderContext,
  ): Promise<{ answered: number; cannotReach: number }> {
    const host = resource.ref.id;
    const leases = this.leases(ctx);
    const peers = ctx.inventory
      .resourcesIn(resource.partition)
      .map((r) => r.ref)
      .filter((r) => r.type === this.resourceType && r.id !== host && !leases.silenced(r.id));
    const answers = await Promise.all(
      peers.map(async ({ id }) => {
        leases.requestSent(id, this.clock(ctx).now());
        return this.ask(ctx, this.config.replyTimeoutMs, (s) => this.options.neighbors.canReach!(id, host, s)).catch(
          () => undefined,
        );
      }),
    );
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const known = answers.filter((a): a is boolean => a !== undefined);
    return { answered: known.length, cannotReach: known.filter((a) => !a).length };
  }

  /**
   * Tells the agent whether HA is enabled for its host (docs/behaviour.md#kvm-hosts, #several-management-servers).
   * Every new decision takes a new `armGen` (above the latest recorded and above the one the agent reports) and is
   * **recorded before it is sent**; a decision the agent has not applied (a failed request, or an agent restarted
   * since) is sent again with the same gen. A host this server never armed is armed with its own gen, so its lease can
   * be proven once a heartbeat echoes it. The agent's acknowledgement counts for lease-only protection, never for the
   * proof.
   *
   * Observe-only (`ctx.observeOnly`, docs/observe-only.md): nothing is recorded and nothing is sent — the agent stays
   * as it is; the arm or disarm this server would decide is logged once per change.
   */
  private async syncArm(resource: ResourceSpec, ctx: ProviderContext, answer: AgentHealth): Promise<void> {
    const host = resource.ref.id;
    const setArmed = this.options.agents.setArmed?.bind(this.options.agents);
    const heartbeat = answer.heartbeat;
    if (!setArmed || heartbeat === undefined) return;
    const desired =
      ctx.inventory.partition(resource.partition)?.haEnabled === true &&
      ctx.operatorMaintenance !== true &&
      !(this.options.inventory.facts(host)?.maintenance ?? false);
    if (ctx.observeOnly === true) {
      if (heartbeat.armed === desired) this.armWithheld.delete(host);
      else if (this.armWithheld.get(host) !== desired) {
        this.armWithheld.set(host, desired);
        (this.options.logger ?? ctx.logger).info(
          `${host}: observe-only: would ${desired ? 'arm' : 'disarm'} the agent; not sent`,
          { host },
        );
      }
      return;
    }
    this.armWithheld.delete(host);
    const applied = answer.armGen ?? armGenOf(heartbeat);
    let latest: ArmRecord | undefined;
    try {
      latest = await this.armRecords.latest(host);
    } catch (err) {
      // The records are unreadable (the store is down): nothing is decided or sent this time, and the host's
      // health is its agent's answer, not the store's.
      if (ctx.signal.aborted) throw err;
      (this.options.logger ?? ctx.logger).warn(`${host}: arm records unreadable; arm state not synced`, {
        host,
        error: (err as Error).message,
      });
      return;
    }
    if (!latest && !desired && !heartbeat.armed) return; // never armed by this server, and not armed: nothing to undo
    if (!latest || latest.armed !== desired || applied > latest.gen) {
      const decision: ArmRecord = {
        gen: Math.max(latest?.gen ?? 0, applied) + 1,
        armed: desired,
        at: this.clock(ctx).now(),
      };
      try {
        await this.armRecords.record(host, decision);
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        (this.options.logger ?? ctx.logger).warn(
          `${host}: could not record the ${desired ? 'arm' : 'disarm'}; not sent`,
          { host, error: (err as Error).message },
        );
        return;
      }
      latest = decision;
    } else if (applied === latest.gen) {
      this.armRequested.delete(host); // applied (the agent may lack a watchdog: its heartbeat says so)
      return;
    }
    // An agent that echoes no armGen (older than docs/behaviour.md#several-management-servers) is asked once per
    // decision; one that echoes a lower gen than it acknowledged has restarted and is asked again.
    if (this.armRequested.get(host) === latest.gen && answer.armGen === undefined && heartbeat.armGen === undefined)
      return;
    const request = { armed: latest.armed, armGen: latest.gen };
    this.armRequested.set(host, request.armGen);
    this.leases(ctx).requestSent(host, this.clock(ctx).now());
    await this.ask(ctx, this.config.replyTimeoutMs, (s) => setArmed(host, request, s)).then(
      () => {
        this.leases(ctx).armApplied(host, request.armGen);
      },
      (err: unknown) => {
        this.armRequested.delete(host);
        if (ctx.signal.aborted) throw err;
        (this.options.logger ?? ctx.logger).warn(
          `${host}: could not ${request.armed ? 'arm' : 'disarm'} the agent (armGen ${request.armGen})`,
          { host, error: (err as Error).message },
        );
      },
    );
  }

  /**
   * Refreshes `host`'s VM volume list while its agent answers, at most once per refresh interval; a failure keeps the
   * last list.
   */
  private async refreshVolumes(host: string, ctx: ProviderContext): Promise<void> {
    const directory = this.options.volumes;
    const now = this.clock(ctx).now();
    if (!directory?.refresh || now - (this.volumesRefreshedAt.get(host) ?? -Infinity) < this.config.volumeRefreshMs)
      return;
    this.volumesRefreshedAt.set(host, now);
    const log = this.options.logger ?? ctx.logger;
    try {
      await this.ask(ctx, this.config.replyTimeoutMs, (s) => directory.refresh!(host, s));
      if (this.volumeRefreshFailing.delete(host)) log.info(`${host}: its VM volume list is known again`, { host });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      if (!this.volumeRefreshFailing.has(host))
        log.warn(`${host}: could not list its VM volumes; the last list stands`, {
          host,
          error: (err as Error).message,
        });
      this.volumeRefreshFailing.add(host);
    }
  }

  /**
   * Once the episode depends on the lease, the provider stops contacting the host's agent
   * (docs/behaviour.md#kvm-hosts).
   */
  private updateLeaseMode(resource: ResourceSpec, ctx: ProviderContext): void {
    const host = resource.ref.id;
    const dependsOnLease =
      ctx.state === 'FENCING' ||
      ctx.state === 'FAILED' ||
      (this.powerOf(resource) === 'UNKNOWN' && EPISODE_STATES.includes(ctx.state));
    if (dependsOnLease) this.leases(ctx).enterLeaseMode(host, this.clock(ctx).now());
    else this.leases(ctx).leaveLeaseMode(host);
  }

  private powerOf(resource: ResourceSpec): PowerState | undefined {
    return this.options.powerState?.(resource.ref.id) ?? (resource.power ? undefined : 'UNKNOWN');
  }

  private alert(host: string, code: AlertCode, message: string, ctx: Ctx): void {
    const alert: KvmAlert = { host, code, message, at: this.clock(ctx).now() };
    (this.options.logger ?? ctx.logger).warn(message, { host });
    ctx.alert?.('warning', code, message, host);
    for (const listener of this.listeners) listener(alert);
  }

  /** Runs `fn` with a reply timeout on the clock, also aborted by the call's signal. */
  private async ask<T>(ctx: Ctx, ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withClockSignal(this.clock(ctx), ms, 'agent request', fn, {
      parent: ctx.signal,
      timeoutReason: () => new TimeoutError('agent request', ms),
      race: true,
    });
  }

  private clock(ctx: Ctx): Clock {
    return this.options.clock ?? ctx.clock;
  }

  private leases(ctx: Ctx): LeaseTracker {
    this.tracker ??= new LeaseTracker(this.clock(ctx).now(), this.config.leaseMarginMs, this.armRecords);
    return this.tracker;
  }
}

/** ` (detail)` for an alert message, or nothing when the detail only repeats what the message says. */
function detailOf(detail: string | undefined, says: string): string {
  if (!detail || detail.includes(says)) return '';
  return ` (${detail})`;
}
