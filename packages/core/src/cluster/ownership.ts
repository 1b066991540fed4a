import type { Clock, TimerHandle } from '../spi/clock.js';
import type { Logger } from '../spi/logger.js';
import type { CoordinationStore, PartitionLease, WriteFence } from '../spi/state-store.js';
import { preferredOwner } from './rendezvous.js';
import { Sightings } from './sightings.js';

/** Lease timing of one server, in ms on its own clock (config `servers`). */
export interface LeaseTiming {
  readonly leaseTtl: number;
  readonly leaseMargin: number;
  readonly renewInterval: number;
}

/** What {@link Ownership} tells its server. */
export interface OwnershipListener {
  /**
   * Another live server has reached `partition`'s controllers clearly better than this one
   * for the hand-over time: the server should end its work there and release it (to `to`).
   */
  outreached?(partition: string, to: string, reason: string): void;
  /** This server now holds `lease`: it may load the partition's state and act for it. */
  acquired(lease: PartitionLease): void;
  /** This server no longer holds `partition` (deadline passed, renewal refused, fenced write refused). */
  lost(partition: string, epoch: number, reason: string): void;
}

/** Options of {@link Ownership}. */
export interface OwnershipOptions extends LeaseTiming {
  readonly coordination: CoordinationStore;
  /** This server's monotonic clock. */
  readonly clock: Clock;
  readonly msId: string;
  /** Fresh per process start. */
  readonly runId: string;
  /** How long a challenger waits beyond `leaseTtl` for `partition` (its longest power command). */
  readonly actBound: (partition: string) => number;
  readonly listener: OwnershipListener;
  readonly logger?: Logger;
  /** This server's reach of `partition`'s controllers (0–1), published with every renewal. */
  readonly reach?: (partition: string) => number | undefined;
  /** How long another server's reach must beat ours by {@link REACH_MARGIN} before we hand over (default 5 min). */
  readonly reachHandOverMs?: number;
}

/** How much better another server's reach must be before a partition is handed to it. */
export const REACH_MARGIN = 0.25;

interface Held {
  readonly epoch: number;
  /** This server's own deadline: acting stops here unless a renewal commits first. */
  deadline: number;
  timer?: TimerHandle;
}

/**
 * One management server's partition leases over the shared store (docs/behaviour.md#several-servers). Every
 * `renewInterval` it renews its membership row and its leases — a lease's deadline is the clock read before its
 * renewal was sent plus `leaseTtl − leaseMargin`, extended only when the renewal committed — and reads the members
 * and leases: it takes a partition without a lease when it is the preferred owner (rendezvous hashing over the live
 * members; anyone after `leaseTtl`), a released one at once, and one held by another run only after that run's
 * `(runId, renewSeq)` stood still for `leaseTtl + actBound` on this server's clock (compare-and-set on the epoch).
 */
export class Ownership {
  private readonly managed = new Set<string>();
  private readonly held = new Map<string, Held>();
  private readonly members = new Sightings();
  private readonly leases = new Sightings();
  private readonly unowned = new Sightings();
  private memberSeq = 0;
  private ticks = 0;
  private timer?: TimerHandle;
  private ticking = false;
  private stopped = true;
  /** No partition is taken before this time while another server is live (after a hand-over). */
  private holdOffUntil = -Infinity;
  /** Live servers other than this one, as of the last round. */
  private others = 0;
  /** Reach scores the other live servers published, by server id. */
  private reachOf = new Map<string, Readonly<Record<string, number>>>();
  /** Since when another server has reached a held partition clearly better (value: that server). */
  private readonly outreach = new Sightings();
  /** The holder (server id) of every held lease, as of the last round. */
  private readonly holders = new Map<string, string>();

  /** Builds the ownership of one server run; nothing happens until {@link Ownership.start}. */
  constructor(private readonly o: OwnershipOptions) {}

  /** This server's id. */
  get msId(): string {
    return this.o.msId;
  }

  /** This run's id. */
  get runId(): string {
    return this.o.runId;
  }

  /** Starts renewing and taking partitions; the first round only joins (announces and reads). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops every timer at once: no renewal and no acquisition any more; held leases stay as they are. */
  stop(): void {
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
    for (const h of this.held.values()) this.o.clock.clearTimeout(h.timer);
  }

  /** Competes for `partition` from the next round on. */
  manage(partition: string): void {
    this.managed.add(partition);
  }

  /** Stops competing for `partition`; a held lease of it is released. */
  async unmanage(partition: string): Promise<void> {
    this.managed.delete(partition);
    await this.release(partition);
  }

  /** Whether `partition` is an ownership unit of this server. */
  manages(partition: string): boolean {
    return this.managed.has(partition);
  }

  /** The fence of a write for `partition`, while this server holds it and its deadline has not passed. */
  fence(partition: string): WriteFence | undefined {
    const h = this.held.get(partition);
    if (!h || this.o.clock.now() >= h.deadline) return undefined;
    return { partition, epoch: h.epoch, runId: this.o.runId };
  }

  /** Why this server may not act for `partition` now (send a command, write), or undefined when it may. */
  gate(partition: string): string | undefined {
    const h = this.held.get(partition);
    if (!h) return `partition '${partition}' is not held by ${this.o.msId}`;
    if (this.o.clock.now() >= h.deadline) return `the lease of '${partition}' reached its deadline`;
    return undefined;
  }

  /** Whether this server holds `partition` at `epoch` (any epoch when omitted) and may act for it. */
  holds(partition: string, epoch?: number): boolean {
    const h = this.held.get(partition);
    return !!h && (epoch === undefined || h.epoch === epoch) && this.o.clock.now() < h.deadline;
  }

  /**
   * The server that holds `partition`: this one while it holds it, else the holder the last round read (a lease
   * released, or never taken, has none).
   */
  ownerOf(partition: string): string | undefined {
    return this.holds(partition) ? this.o.msId : this.holders.get(partition);
  }

  /** Partitions held now. */
  heldPartitions(): string[] {
    return [...this.held.keys()];
  }

  /** Drops `partition` at once (a fenced write was refused, the deadline passed, a renewal was refused). */
  lose(partition: string, reason: string): void {
    const h = this.held.get(partition);
    if (!h) return;
    this.o.clock.clearTimeout(h.timer);
    this.held.delete(partition);
    this.o.listener.lost(partition, h.epoch, reason);
  }

  /** Releases `partition` voluntarily (the caller has ended its work there): a taker may act at once. */
  async release(partition: string): Promise<void> {
    const h = this.held.get(partition);
    if (!h) return;
    this.o.clock.clearTimeout(h.timer);
    this.held.delete(partition);
    await this.o.coordination
      .releaseLease(partition, this.o.runId, h.epoch)
      .catch((err: unknown) => this.o.logger?.warn('lease not released', { partition, error: String(err) }));
  }

  /**
   * Hands `partitions` over (the caller has ended its work there): the held ones are
   * released and, for `holdOffMs`, this server takes no partition while another server is
   * live — so what it gave up goes to the others, and does not bounce back.
   */
  async handOver(partitions: readonly string[], holdOffMs: number): Promise<string[]> {
    this.holdOffUntil = Math.max(this.holdOffUntil, this.o.clock.now() + holdOffMs);
    const given = partitions.filter((p) => this.held.has(p));
    for (const p of given) await this.release(p);
    return given;
  }

  /** Whether another server was live in the last round (someone could take what this one gives up). */
  othersLive(): boolean {
    return this.others > 0;
  }

  /** Clean stop: releases every lease and retires this run's membership row. */
  async leave(): Promise<void> {
    this.stop();
    for (const p of [...this.held.keys()]) await this.release(p);
    await this.o.coordination
      .removeMember(this.o.runId)
      .catch((err: unknown) => this.o.logger?.warn('membership not retired', { error: String(err) }));
  }

  /** One round now (tests drive it directly; the timer calls it every `renewInterval`). */
  async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      const joining = this.ticks++ === 0;
      await this.renew();
      if (this.stopped) return;
      const [members, leases] = await Promise.all([
        this.o.coordination.listMembers(),
        this.o.coordination.listLeases(),
      ]);
      if (this.stopped || joining) {
        this.observe(members, leases);
        return;
      }
      await this.compete(this.observe(members, leases), leases);
    } catch (err) {
      this.o.logger?.warn('ownership round failed', { msId: this.o.msId, error: String(err) });
    } finally {
      this.ticking = false;
    }
  }

  private schedule(ms: number): void {
    this.timer = this.o.clock.setTimeout(() => {
      if (this.stopped) return;
      this.schedule(this.o.renewInterval);
      void this.tick();
    }, ms);
  }

  private async renew(): Promise<void> {
    const { coordination, msId, runId } = this.o;
    await coordination
      .renewMember({ msId, runId, renewSeq: ++this.memberSeq, ...this.publishedReach() })
      .catch((err: unknown) => this.o.logger?.warn('membership not renewed', { msId, error: String(err) }));
    for (const [partition, h] of [...this.held]) {
      const sentAt = this.o.clock.now(); // read BEFORE the renewal is sent
      const ok = await coordination.renewLease(partition, runId, h.epoch).catch(() => undefined);
      if (this.held.get(partition) !== h) continue;
      if (ok === false) this.lose(partition, 'renewal refused: another server holds the lease');
      else if (ok === true) this.extend(partition, h, sentAt);
      // an unknown outcome extends nothing: the deadline stands
    }
  }

  /** Live members' ids (renewSeq changed within `leaseTtl` on our clock), ourselves included. */
  private observe(
    members: readonly { msId: string; runId: string; renewSeq: number; reach?: Readonly<Record<string, number>> }[],
    leases: readonly PartitionLease[],
  ): Set<string> {
    const now = this.o.clock.now();
    const live = new Set<string>([this.o.msId]);
    this.reachOf = new Map();
    for (const m of members) {
      if (now - this.members.see(m.runId, String(m.renewSeq), now) >= this.o.leaseTtl) continue;
      live.add(m.msId);
      if (m.msId !== this.o.msId && m.reach) this.reachOf.set(m.msId, m.reach);
    }
    this.members.retain(new Set(members.map((m) => m.runId)));
    this.others = live.size - 1;
    this.holders.clear();
    for (const l of leases) {
      this.leases.see(l.partition, `${l.runId}|${l.epoch}|${l.renewSeq}`, now);
      if (l.runId !== '') this.holders.set(l.partition, l.msId);
    }
    return live;
  }

  private async compete(live: ReadonlySet<string>, leases: readonly PartitionLease[]): Promise<void> {
    // Holding off after a hand-over, unless nobody else is there to take anything.
    if (this.o.clock.now() < this.holdOffUntil && live.size > 1) return;
    const rows = new Map(leases.map((l) => [l.partition, l]));
    for (const partition of [...this.managed].sort()) {
      if (this.stopped) return;
      if (this.held.has(partition)) {
        this.watchReach(partition);
        continue;
      }
      const row = rows.get(partition);
      const now = this.o.clock.now();
      if (row === undefined || row.runId === '') {
        const candidates = new Set(live);
        if (row) candidates.delete(row.msId); // the releaser gave it up: the next preferred takes it
        candidates.add(this.o.msId);
        const since = this.unowned.see(partition, row ? `released|${row.epoch}` : 'none', now);
        // A released lease goes to whoever reaches its controllers clearly best (a hand-over); a new one by hashing.
        const among = row ? this.bestReach(partition, candidates) : candidates;
        const preferred = preferredOwner(partition, among) === this.o.msId;
        if (preferred || now - since >= this.o.leaseTtl) await this.acquire(partition, row?.epoch ?? null);
        continue;
      }
      this.unowned.forget(partition);
      // Still ours in the store though we dropped it (our deadline passed): nobody else acts for it, retake it.
      if (row.runId === this.o.runId) {
        await this.acquire(partition, row.epoch);
        continue;
      }
      const since = this.leases.see(partition, `${row.runId}|${row.epoch}|${row.renewSeq}`, now);
      if (now - since >= this.o.leaseTtl + this.o.actBound(partition)) await this.acquire(partition, row.epoch);
    }
  }

  /** Our reach of every managed partition, for the membership row. */
  private publishedReach(): { reach?: Record<string, number> } {
    if (!this.o.reach) return {};
    const reach: Record<string, number> = {};
    for (const p of this.managed) {
      const r = this.o.reach(p);
      if (r !== undefined) reach[p] = r;
    }
    return { reach };
  }

  /**
   * The candidates that reach `partition` about as well as the best one (less than
   * {@link REACH_MARGIN} below it); all of them when nobody published a score.
   */
  private bestReach(partition: string, candidates: ReadonlySet<string>): Set<string> {
    const score = (ms: string) =>
      ms === this.o.msId ? (this.o.reach?.(partition) ?? 0) : (this.reachOf.get(ms)?.[partition] ?? 0);
    const best = Math.max(...[...candidates].map(score));
    return new Set([...candidates].filter((ms) => score(ms) > best - REACH_MARGIN));
  }

  /** A held partition: another live server reaching it clearly better for long enough gets it. */
  private watchReach(partition: string): void {
    const own = this.o.reach?.(partition);
    if (own === undefined || !this.o.listener.outreached) return;
    let to: string | undefined;
    let theirs = own;
    for (const [ms, reach] of this.reachOf) {
      const r = reach[partition];
      if (r !== undefined && r >= own + REACH_MARGIN && r > theirs) [to, theirs] = [ms, r];
    }
    const now = this.o.clock.now();
    if (to === undefined) {
      this.outreach.forget(partition);
      return;
    }
    const since = this.outreach.see(partition, to, now);
    if (now - since < (this.o.reachHandOverMs ?? 300_000)) return;
    this.outreach.forget(partition);
    this.o.listener.outreached(
      partition,
      to,
      `${to} reaches its controllers better (${theirs.toFixed(2)} against ${own.toFixed(2)}) for ${Math.round((now - since) / 1000)} s`,
    );
  }

  private async acquire(partition: string, expectedEpoch: number | null): Promise<void> {
    const { coordination, msId, runId, leaseTtl } = this.o;
    const sentAt = this.o.clock.now();
    const lease = await coordination
      .acquireLease({ partition, msId, runId, leaseTtlMs: leaseTtl }, expectedEpoch)
      .catch(() => undefined);
    if (!lease || this.stopped || !this.managed.has(partition)) return;
    const h: Held = { epoch: lease.epoch, deadline: sentAt };
    this.held.set(partition, h);
    this.unowned.forget(partition);
    this.extend(partition, h, sentAt);
    if (this.holds(partition, lease.epoch)) this.o.listener.acquired(lease);
  }

  /** A renewal sent at `sentAt` committed: the deadline moves to `sentAt + leaseTtl − leaseMargin`. */
  private extend(partition: string, h: Held, sentAt: number): void {
    const deadline = sentAt + this.o.leaseTtl - this.o.leaseMargin;
    if (deadline <= h.deadline) return;
    h.deadline = deadline;
    this.arm(partition, h);
  }

  /** A timer at the deadline drops the lease (re-armed when it fires early). */
  private arm(partition: string, h: Held): void {
    this.o.clock.clearTimeout(h.timer);
    if (this.stopped) return;
    h.timer = this.o.clock.setTimeout(
      () => {
        if (this.held.get(partition) !== h) return;
        if (this.o.clock.now() >= h.deadline)
          this.lose(partition, 'lease deadline reached without a confirmed renewal');
        else this.arm(partition, h);
      },
      Math.max(0, h.deadline - this.o.clock.now()),
    );
  }
}
