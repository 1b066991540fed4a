import type { HeartbeatRecord } from '../ports.js';
import { armGenOf, encodeHeartbeat } from '../agent/heartbeat-file.js';
import { MemoryArmRecords, type ArmRecord, type ArmRecords } from './arm-records.js';

/**
 * Why condition (1) or (3) does not hold: no record known; no arm recorded by this
 * server; the latest recorded decision is a disarm (`disarm-unconfirmed` while no
 * heartbeat has echoed it yet); the heartbeat does not echo the latest arm's gen; the
 * heartbeat is not armed with a watchdog; the heartbeat was never read by a neighbour.
 */
export type NoLeaseCode =
  | 'no-heartbeat'
  | 'no-arm-record'
  | 'arm-records-unreadable'
  | 'disarm-unconfirmed'
  | 'disarmed'
  | 'arm-gen-not-echoed'
  | 'not-armed'
  | 'never-read';

/** Conditions 1–3 of the lease proof, as far as the tracker's records go. */
export type LeaseEvidence =
  | { readonly kind: 'none'; readonly code: NoLeaseCode; readonly reason: string }
  | { readonly kind: 'pending'; readonly deadline: number; readonly reason: string }
  | { readonly kind: 'due'; readonly evidence: string };

interface HostTrack {
  lastSentAt?: number;
  /** Latest record known from any source (health answers or heartbeat reads). */
  latest?: HeartbeatRecord;
  latestAt?: number;
  /** Content of the latest heartbeat *read* and the earliest time it was seen. */
  content?: string;
  contentSince?: number;
  lastReadChanged: boolean;
  leaseModeSince?: number;
  /** The `armGen` the agent last said it applied (request acknowledged, or a health answer). */
  appliedGen?: number;
}

/**
 * The management-server side of the self-fence lease (docs/behaviour.md#kvm-hosts). It records every
 * request the provider sends to a host, the heartbeat records it learns, and how long
 * a heartbeat's content has stayed the same; from these and the arm/disarm records it
 * decides conditions 1–3 of the lease proof (condition 4, the peers' view, is asked by
 * the provider).
 *
 * Condition (1) holds only when the latest arm/disarm recorded for the host is an
 * **arm** and the last heartbeat known says `armed` with a watchdog **and echoes that
 * arm's `armGen`** (docs/behaviour.md#several-management-servers). A disarm is recorded before it is sent, so a host
 * cut off after its agent applied a disarm but before a heartbeat said so has no lease: its stale `armed: true` echoes
 * an older gen. A host with **no record** here has no lease either, whatever its heartbeat says: a heartbeat armed with
 * a gen from another server, a previous life of this one or a hand-written flag proves nothing about the disarms this
 * server did not send (a persistent {@link ArmRecords} keeps the records across restarts; otherwise the provider
 * re-arms the host with a new gen and the lease holds once a heartbeat echoes it).
 */
export class LeaseTracker {
  private readonly hosts = new Map<string, HostTrack>();

  /**
   * `startedAt` is the floor of "last request sent": a restarted MS cannot know what
   * its previous life sent. `marginMs` is added to the agent's `selfFenceAfter`.
   * `arms` holds the arm/disarm decisions (default: in memory).
   */
  constructor(
    private readonly startedAt: number,
    private readonly marginMs: number,
    readonly arms: ArmRecords = new MemoryArmRecords(),
  ) {}

  /** The provider is about to send a request to `host`'s agent. */
  requestSent(host: string, now: number): void {
    this.track(host).lastSentAt = now;
  }

  /** Time of the last request sent to `host` (at least the tracker's start). */
  lastSent(host: string): number {
    return Math.max(this.startedAt, this.hosts.get(host)?.lastSentAt ?? this.startedAt);
  }

  /** The agent reported the record it last wrote (health answer). */
  agentReport(host: string, record: HeartbeatRecord, now: number): void {
    const t = this.track(host);
    t.latest = record;
    t.latestAt = now;
  }

  /**
   * A neighbour read `host`'s heartbeat (one or more reads, oldest first); each `at` is
   * the latest time that read can have happened, so "unchanged since" errs late.
   */
  heartbeatRead(host: string, reads: readonly { readonly record: HeartbeatRecord; readonly at: number }[]): void {
    const t = this.track(host);
    let changed = false;
    for (const { record, at } of reads) {
      const content = encodeHeartbeat(record);
      if (t.latestAt === undefined || at >= t.latestAt) {
        t.latest = record;
        t.latestAt = at;
      }
      if (t.content !== content) {
        changed ||= t.content !== undefined;
        t.content = content;
        t.contentSince = at;
      }
    }
    t.lastReadChanged = changed;
  }

  /**
   * The agent said it applied `armGen` (it acknowledged the request, or its health
   * answer says so). The latest word wins: a restarted agent reports a lower gen.
   */
  armApplied(host: string, armGen: number): void {
    this.track(host).appliedGen = armGen;
  }

  /** The latest record known for `host`. */
  latest(host: string): HeartbeatRecord | undefined {
    return this.hosts.get(host)?.latest;
  }

  /**
   * The host is protected by an armed lease (lease-only mode, docs/behaviour.md#kvm-hosts): the latest
   * recorded decision is an arm, the latest heartbeat known says `armed` with a watchdog,
   * and either that heartbeat echoes the arm's `armGen` (condition 1) or the agent has
   * acknowledged applying it (an armed agent that applies a later arm stays armed; no
   * disarm can have come between, since it would be recorded first and be the latest).
   * Never after a disarm not yet undone by a later arm. The lease *proof*
   * ({@link LeaseTracker.evaluate}) always needs the heartbeat's echo.
   */
  async armed(host: string): Promise<boolean> {
    const refused = await this.condition1(host);
    if (!refused) return true;
    if (refused.code !== 'arm-gen-not-echoed') return false;
    const t = this.hosts.get(host)!;
    const r = t.latest!;
    const arm = await this.latestArm(host);
    return arm !== 'unreadable' && !!arm && arm.armed && t.appliedGen === arm.gen && r.armed && r.watchdog !== 'none';
  }

  /** The host's latest arm record; an unreadable store proves nothing (never a lease from it). */
  private async latestArm(host: string): Promise<ArmRecord | undefined | 'unreadable'> {
    try {
      return await this.arms.latest(host);
    } catch {
      return 'unreadable';
    }
  }

  /** The host's episode depends on the lease from now on (idempotent). */
  enterLeaseMode(host: string, now: number): void {
    const t = this.track(host);
    t.leaseModeSince ??= now;
  }

  /** The episode no longer depends on the lease. */
  leaveLeaseMode(host: string): void {
    const t = this.hosts.get(host);
    if (t) t.leaseModeSince = undefined;
  }

  /**
   * The provider must not contact `host`'s agent: its episode depends on the lease and
   * the latest read did not show it alive (a one-way link must not keep it alive).
   */
  silenced(host: string): boolean {
    const t = this.hosts.get(host);
    return t?.leaseModeSince !== undefined && !t.lastReadChanged;
  }

  /**
   * How long `r`'s host must stay silent before its lease can expire: `selfFenceAfter`
   * plus the margin — the agent's own worst case to the reset wins over a smaller
   * configured margin.
   */
  span(r: HeartbeatRecord): number {
    return r.selfFenceAfter + Math.max(this.marginMs, r.resetMarginMs ?? 0);
  }

  /**
   * Conditions 1–3: the latest recorded arm echoed by a heartbeat armed with a watchdog,
   * no request sent and content unchanged for `selfFenceAfter + margin`.
   */
  async evaluate(host: string, now: number): Promise<LeaseEvidence> {
    const refused = await this.condition1(host);
    if (refused) return refused;
    const t = this.hosts.get(host)!;
    const r = t.latest!;
    if (t.contentSince === undefined)
      return { kind: 'none', code: 'never-read', reason: 'heartbeat never read by a neighbour' };
    const span = this.span(r);
    const sent = this.lastSent(host);
    const deadline = Math.max(sent, t.contentSince) + span;
    if (now < deadline) {
      return {
        kind: 'pending',
        deadline,
        reason: `lease expires at ${new Date(deadline).toISOString()} unless the heartbeat changes`,
      };
    }
    return {
      kind: 'due',
      evidence: `armed (${r.watchdog} watchdog), no request sent for ${now - sent} ms, heartbeat #${r.counter} unchanged for ${now - t.contentSince} ms (selfFenceAfter ${r.selfFenceAfter} + margin ${span - r.selfFenceAfter} ms)`,
    };
  }

  /** Condition (1), or why it does not hold. */
  private async condition1(host: string): Promise<Extract<LeaseEvidence, { kind: 'none' }> | undefined> {
    const r = this.hosts.get(host)?.latest;
    if (!r) return { kind: 'none', code: 'no-heartbeat', reason: 'no heartbeat record known' };
    const arm = await this.latestArm(host);
    if (arm === 'unreadable')
      return { kind: 'none', code: 'arm-records-unreadable', reason: 'the arm records cannot be read (store down)' };
    if (!arm)
      return { kind: 'none', code: 'no-arm-record', reason: 'no arm recorded for the host by this management server' };
    const echoed = armGenOf(r);
    if (!arm.armed) {
      return echoed === arm.gen
        ? { kind: 'none', code: 'disarmed', reason: `disarmed (armGen ${arm.gen})` }
        : {
            kind: 'none',
            code: 'disarm-unconfirmed',
            reason: `disarm sent at ${new Date(arm.at).toISOString()} (armGen ${arm.gen}) not yet confirmed by a heartbeat (it echoes armGen ${echoed})`,
          };
    }
    if (echoed !== arm.gen)
      return {
        kind: 'none',
        code: 'arm-gen-not-echoed',
        reason: `heartbeat does not echo the latest armGen ${arm.gen} (it echoes ${echoed})`,
      };
    if (!r.armed || r.watchdog === 'none')
      return { kind: 'none', code: 'not-armed', reason: 'last heartbeat is not armed with a watchdog' };
    return undefined;
  }

  private track(host: string): HostTrack {
    let t = this.hosts.get(host);
    if (!t) this.hosts.set(host, (t = { lastReadChanged: false }));
    return t;
  }
}
