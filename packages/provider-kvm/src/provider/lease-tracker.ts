import type { HeartbeatRecord } from '../ports.js';
import { encodeHeartbeat } from '../agent/heartbeat-file.js';

/** Conditions 1–3 of the lease proof, as far as the tracker's records go. */
export type LeaseEvidence =
  | { readonly kind: 'none'; readonly reason: string }
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
}

/**
 * The management-server side of the self-fence lease (SPEC §5.1). It records every
 * request the provider sends to a host, the heartbeat records it learns, and how long
 * a heartbeat's content has stayed the same; from these it decides conditions 1–3 of
 * the lease proof (condition 4, the peers' view, is asked by the provider).
 */
export class LeaseTracker {
  private readonly hosts = new Map<string, HostTrack>();

  /**
   * `startedAt` is the floor of "last request sent": a restarted MS cannot know what
   * its previous life sent. `marginMs` is added to the agent's `selfFenceAfter`.
   */
  constructor(private readonly startedAt: number, private readonly marginMs: number) {}

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

  /** The latest record known for `host`. */
  latest(host: string): HeartbeatRecord | undefined {
    return this.hosts.get(host)?.latest;
  }

  /** The host's lease is armed: its latest record says `armed` with a watchdog. */
  armed(host: string): boolean {
    const r = this.latest(host);
    return !!r && r.armed && r.watchdog !== 'none';
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

  /** Conditions 1–3: armed with a watchdog, no request sent and content unchanged for `selfFenceAfter + margin`. */
  evaluate(host: string, now: number): LeaseEvidence {
    const t = this.hosts.get(host);
    const r = t?.latest;
    if (!t || !r) return { kind: 'none', reason: 'no heartbeat record known' };
    if (!r.armed || r.watchdog === 'none') return { kind: 'none', reason: 'last heartbeat is not armed with a watchdog' };
    if (t.contentSince === undefined) return { kind: 'none', reason: 'heartbeat never read by a neighbour' };
    // The agent's own worst case to the reset wins over a smaller configured margin.
    const margin = Math.max(this.marginMs, r.resetMarginMs ?? 0);
    const span = r.selfFenceAfter + margin;
    const sent = this.lastSent(host);
    const deadline = Math.max(sent, t.contentSince) + span;
    if (now < deadline) {
      return { kind: 'pending', deadline, reason: `lease expires at ${new Date(deadline).toISOString()} unless the heartbeat changes` };
    }
    return {
      kind: 'due',
      evidence: `armed (${r.watchdog} watchdog), no request sent for ${now - sent} ms, heartbeat #${r.counter} unchanged for ${now - t.contentSince} ms (selfFenceAfter ${r.selfFenceAfter} + margin ${margin} ms)`,
    };
  }

  private track(host: string): HostTrack {
    let t = this.hosts.get(host);
    if (!t) this.hosts.set(host, (t = { lastReadChanged: false }));
    return t;
  }
}
