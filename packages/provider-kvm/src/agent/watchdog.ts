import { open, readFile, type FileHandle } from 'node:fs/promises';
import type { Clock, TimerHandle } from '@hafence/core';
import type { HeartbeatRecord } from '../ports.js';

/** The kind of watchdog that will reset the host, as written in the heartbeat. */
export type WatchdogKind = HeartbeatRecord['watchdog'];

/**
 * A watchdog the agent holds open while armed. Feeding it keeps the host alive; when the
 * agent stops feeding (self-fence), the kernel resets the host even if qemu is stuck in
 * the D state (docs/behaviour.md#kvm-hosts).
 */
export interface Watchdog {
  /** `hardware`, `softdog`, `simulated` or `none`. */
  readonly kind: WatchdogKind;
  /** How long after the last feed the device resets the host, when known. */
  readonly timeoutMs?: number;
  /** Opens (arms) the device; from now on it must be fed. */
  open(): Promise<void>;
  /** Resets the device's countdown. */
  feed(): Promise<void>;
  /** Disarms with the magic close (`V`), for when HA is disabled. Never called to self-fence. */
  close(): Promise<void>;
}

/**
 * `/dev/watchdog`: a hardware watchdog, or the kernel's softdog when that is what the
 * device is. Never opened in tests (opening it arms a real reset).
 */
export class DeviceWatchdog implements Watchdog {
  private handle: FileHandle | undefined;

  /** Binds to `device`; `kind` is `hardware` or `softdog` (see {@link detectWatchdogKind}); `timeoutMs` if known. */
  constructor(
    readonly kind: 'hardware' | 'softdog',
    private readonly device = '/dev/watchdog',
    readonly timeoutMs?: number,
  ) {}

  async open(): Promise<void> {
    this.handle ??= await open(this.device, 'w');
  }

  async feed(): Promise<void> {
    await this.handle?.write('\0');
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (!handle) return;
    await handle.write('V'); // magic close: the driver stops the countdown
    await handle.close();
  }
}

/** The device's timeout from `/sys/class/watchdog/watchdog0/timeout` (seconds), in ms. */
export async function readWatchdogTimeoutMs(
  sysfs = '/sys/class/watchdog/watchdog0/timeout',
): Promise<number | undefined> {
  const seconds = Number((await readFile(sysfs, 'utf8').catch(() => '')).trim());
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** Reads `/sys/class/watchdog/watchdog0/identity`: `softdog` for the kernel's soft watchdog. */
export async function detectWatchdogKind(
  sysfs = '/sys/class/watchdog/watchdog0/identity',
): Promise<'hardware' | 'softdog'> {
  const identity = await readFile(sysfs, 'utf8').catch(() => '');
  return /soft/i.test(identity) ? 'softdog' : 'hardware';
}

/**
 * A watchdog in virtual time, for tests and simulated clusters: it "resets the host"
 * (calls `onExpire`) when not fed for `timeoutMs` while open.
 */
export class SimulatedWatchdog implements Watchdog {
  readonly kind = 'simulated' as const;
  /** Times of every feed. */
  readonly feeds: number[] = [];
  /** Time the simulated reset happened, if it did. */
  expiredAt: number | undefined;
  private isOpen = false;
  private timer: TimerHandle | undefined;

  /** A watchdog counting on `clock`; `onExpire` models the host reset. */
  constructor(
    private readonly clock: Clock,
    readonly timeoutMs = 15_000,
    private readonly onExpire: () => void = () => {},
  ) {}

  /** The device is held open (armed). */
  get opened(): boolean {
    return this.isOpen;
  }

  async open(): Promise<void> {
    if (this.isOpen) return;
    this.isOpen = true;
    this.restart();
  }

  async feed(): Promise<void> {
    if (!this.isOpen || this.expiredAt !== undefined) return;
    this.feeds.push(this.clock.now());
    this.restart();
  }

  async close(): Promise<void> {
    this.isOpen = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private restart(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.expiredAt = this.clock.now();
      this.onExpire();
    }, this.timeoutMs);
  }
}
