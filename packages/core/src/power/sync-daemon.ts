import type { Clock, TimerHandle } from '../spi/clock.js';
import { Semaphore } from './concurrency.js';
import { jittered, keyedSequence } from '../util/prng.js';

/** Settings and callbacks of a {@link SyncDaemon}. */
export interface SyncDaemonOptions {
  readonly clock: Clock;
  /** Mean time between two reads of one host (ms). */
  readonly intervalMs: number;
  /** Spread of each interval, as a fraction (0.1 → ±10 %). */
  readonly jitterFraction: number;
  /** PRNG seed; each host's jitter is seeded by seed + host name. */
  readonly seed: number;
  /** At most this many reads at once. */
  readonly concurrency: number;
  /**
   * Longest wait before the next read of a host whose reads fail (ms); 5 min by default
   * (docs/behaviour.md#kvm-hosts). Never shortens the normal interval.
   */
  readonly maxBackoffMs?: number;
  /**
   * Reads one host (the power service's `status(host, { by: 'sync' })`). A rejection is
   * a failed read: it lengthens the wait before the next one; reporting it is the
   * caller's business.
   */
  readonly read: (host: string) => Promise<unknown>;
}

/** Default of {@link SyncDaemonOptions.maxBackoffMs}: 5 min (docs/behaviour.md#kvm-hosts). */
export const DEFAULT_SYNC_MAX_BACKOFF_MS = 300_000;

interface HostTimer {
  readonly random: () => number;
  timer?: TimerHandle;
  /** The read running now (one at a time per host). */
  current?: Promise<void>;
  /** Failed reads in a row. */
  failures: number;
}

/**
 * Polls every registered host's power on a jittered interval with a concurrency
 * limit (docs/behaviour.md#power sync daemon). Each host has its own timer; the next read is planned
 * when the previous one finished, so reads of one host never overlap. A host whose reads
 * fail is read less often: the wait doubles per failed read in a row after the first
 * (interval, 2 × interval, 4 × interval, …) up to `maxBackoffMs`, jittered, and is the
 * normal interval again after a successful read (docs/behaviour.md#kvm-hosts).
 */
export class SyncDaemon {
  private readonly hosts = new Map<string, HostTimer>();
  private readonly limit: Semaphore;
  private running = false;

  /** Builds a stopped daemon. */
  constructor(private readonly options: SyncDaemonOptions) {
    this.limit = new Semaphore(options.concurrency);
  }

  /** Whether {@link SyncDaemon.start} was called and not stopped since. */
  get started(): boolean {
    return this.running;
  }

  /** Reads running right now. */
  get inFlight(): number {
    return this.limit.inUse;
  }

  /** Starts polling every added host; the first read of each falls at a random phase of the interval. */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const [host, h] of this.hosts) this.plan(host, h, this.options.intervalMs * h.random());
  }

  /** Stops planning reads; reads already running finish on their own. */
  stop(): void {
    this.running = false;
    for (const h of this.hosts.values()) this.cancel(h);
  }

  /** Adds (or re-adds) a host. */
  add(host: string): void {
    const existing = this.hosts.get(host);
    if (existing) this.cancel(existing);
    const h: HostTimer = { random: keyedSequence(this.options.seed, host, 'power-sync'), failures: 0 };
    this.hosts.set(host, h);
    if (this.running) this.plan(host, h, this.options.intervalMs * h.random());
  }

  /**
   * Reads `host` now — or joins its read already running — within the same concurrency limit;
   * its next read is planned from the end of this one, as usual. For a caller that must know
   * the power before it judges the host (the engine's first health check). Resolves when the
   * read has ended, whatever its outcome (never rejects); at once when the daemon is stopped
   * or does not know the host.
   */
  readNow(host: string): Promise<void> {
    const h = this.hosts.get(host);
    if (!this.running || !h) return Promise.resolve();
    if (h.current) return h.current;
    this.cancel(h);
    return this.fire(host, h);
  }

  /** Forgets a host. */
  remove(host: string): void {
    const h = this.hosts.get(host);
    if (h) this.cancel(h);
    this.hosts.delete(host);
  }

  private cancel(h: HostTimer): void {
    if (h.timer !== undefined) this.options.clock.clearTimeout(h.timer);
    h.timer = undefined;
  }

  private plan(host: string, h: HostTimer, ms: number): void {
    this.cancel(h);
    h.timer = this.options.clock.setTimeout(
      () => {
        h.timer = undefined;
        void this.fire(host, h);
      },
      Math.max(0, Math.round(ms)),
    );
  }

  private fire(host: string, h: HostTimer): Promise<void> {
    if (!this.running || this.hosts.get(host) !== h) return Promise.resolve();
    h.current ??= this.readOnce(host, h);
    return h.current;
  }

  private async readOnce(host: string, h: HostTimer): Promise<void> {
    try {
      await this.limit.with(() =>
        this.running && this.hosts.get(host) === h ? this.options.read(host) : Promise.resolve(),
      );
      h.failures = 0;
    } catch {
      // the power service already recorded the failure (FSM, events, log)
      h.failures++;
    } finally {
      h.current = undefined;
    }
    if (this.running && this.hosts.get(host) === h) this.plan(host, h, this.nextWait(h));
  }

  /** The jittered wait before the next read: the interval, doubled per failed read in a row after the first, capped. */
  private nextWait(h: HostTimer): number {
    const { intervalMs, jitterFraction } = this.options;
    if (h.failures === 0) return jittered(intervalMs, jitterFraction, h.random());
    const cap = Math.max(this.options.maxBackoffMs ?? DEFAULT_SYNC_MAX_BACKOFF_MS, intervalMs);
    const base = Math.min(intervalMs * 2 ** (h.failures - 1), cap);
    return Math.min(jittered(base, jitterFraction, h.random()), cap); // jittered, but never above the cap
  }
}
