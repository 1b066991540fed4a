import { setMaxListeners } from 'node:events';
import { type Observable, Subject } from 'rxjs';
import type { Clock } from '../spi/clock.js';
import type { Logger } from '../spi/logger.js';
import type {
  ChassisCommand,
  ChassisPower,
  PowerBinding,
  PowerDriver,
  PowerOperation,
  PowerState,
} from '../spi/power-driver.js';
import type { HaEvent, Requester } from '../events/ha-event.js';
import { AbortedError, ConfigError, NotFoundError } from '../errors/engine-errors.js';
import { AuthError } from '../errors/power-errors.js';
import { powerTransition, type PowerEvent } from '../fsm/power-fsm.js';
import { systemClock } from '../util/system-clock.js';
import { abortReason, raceAbort } from '../util/delay.js';
import { SerialQueue } from './concurrency.js';
import { runDriverChain, type DriverCall } from './driver-chain.js';
import { noopLogger } from './noop-logger.js';
import { scrub, stripUndefined } from './op-helpers.js';
import { DEFAULT_SYNC_MAX_BACKOFF_MS, SyncDaemon } from './sync-daemon.js';

/** Power settings of the service (docs/behaviour.md#scheduling-and-guards names and defaults). */
export interface PowerServiceConfig {
  readonly powerOpTimeout: number;
  readonly powerReadsToUnknown: number;
  readonly powerSyncInterval: number;
  /** Longest wait between two sync reads of a host whose reads fail (docs/behaviour.md#kvm-hosts: 5 min). */
  readonly powerSyncMaxBackoff: number;
  readonly powerSyncConcurrency: number;
  readonly jitterFraction: number;
  readonly seed: number;
  readonly defaultPowerDrivers: string[];
}

/** Options of {@link PowerManagementService}. */
export interface PowerServiceOptions {
  /** Time source; the system clock by default. */
  clock?: Clock;
  /** Every driver a binding may name (by `driver.name`). */
  drivers: readonly PowerDriver[];
  /** Overrides of the power settings. */
  config?: Partial<PowerServiceConfig>;
  /** Structured log; secrets never reach it. */
  logger?: Logger;
}

/** Per-call options of every power operation. */
export interface PowerOpOptions {
  /** Who asked: `operator`, `ha`, `sync`… (reported in `power.action`). */
  by: Requester;
  /** Cancels the operation (and the driver's socket or process). */
  signal?: AbortSignal;
  /** Timeout of each driver attempt, overriding the host's and the global one. */
  timeoutMs?: number;
  /**
   * Called when the operation leaves the host's queue for the controller, with its
   * dispatch sequence number (increasing per service). Operations of one host run one at
   * a time in this order, so a read dispatched after a command sees its effect.
   */
  onDispatch?: (seq: number) => void;
  /**
   * Checked when the operation leaves the host's queue, right before it goes to the
   * controller: a reason refuses it there ({@link AbortedError}), so a command that waited
   * in the queue past its sender's lease deadline is never sent.
   */
  admit?: () => string | undefined;
}

/** One change of a host's power state, with who caused the read. */
export interface PowerTransition {
  readonly host: string;
  readonly from: PowerState;
  readonly to: PowerState;
  readonly by: Requester;
  /** Dispatch sequence number of the read that saw it (see {@link PowerOpOptions.onDispatch}). */
  readonly seq?: number;
}

/** Power settings used when the caller gives none (docs/behaviour.md#scheduling-and-guards). */
export const DEFAULT_POWER_CONFIG: PowerServiceConfig = {
  powerOpTimeout: 20_000,
  powerReadsToUnknown: 3,
  powerSyncInterval: 30_000,
  powerSyncMaxBackoff: DEFAULT_SYNC_MAX_BACKOFF_MS,
  powerSyncConcurrency: 20,
  jitterFraction: 0.1,
  seed: 1,
  defaultPowerDrivers: [],
};

const DAY_MS = 24 * 3_600_000;

interface HostEntry {
  readonly binding: PowerBinding;
  readonly chain: readonly PowerDriver[];
  state: PowerState;
  /** Failed status reads in a row (the current failure streak). */
  failures: number;
  /** Whether this streak already raised its `controller-unreachable` alert. */
  alerted: boolean;
  /** When the first status read of this binding ended (succeeded or failed); undefined before. */
  readAt?: number;
}

/**
 * The power management service (docs/behaviour.md#power): per-host power FSM, one operation at a time
 * per BMC, a timeout on every driver attempt, a per-host driver fallback chain, events
 * for every command and transition, and the sync daemon. Secrets are redacted from every
 * event, log line and error it passes on.
 *
 * A status read is not an action (docs/behaviour.md#kvm-hosts): whoever reads (sync, ha, operator), a read
 * that changes nothing emits nothing. Failed reads are reported per failure streak —
 * `power.read-failing` at its first read, `power.read-ok` at the read that ends it — and
 * a streak of `powerReadsToUnknown` reads raises one `controller-unreachable` alert
 * (answered by `controller-reachable` when it ends), whether or not the power was ever
 * known. Reads refused for bad credentials count in the streak but raise
 * `controller-auth-refused` (once a day) instead: that controller did answer.
 *
 * @example
 * const power = new PowerManagementService({ drivers: [new ScriptPowerDriver({ preset: 'ipmitool' })] });
 * power.register('kvm1', {
 *   drivers: ['script'],
 *   target: { host: 'kvm1', address: '10.0.0.11', username: 'admin', password },
 * });
 * await power.command('kvm1', 'off', { by: 'operator' });
 */
export class PowerManagementService {
  /**
   * Every event: `power.transition`, `power.action` (commands only), `power.read-failing`,
   * `power.read-ok`, `power.auth-failed`, `alert`, stamped with `clock.now()`.
   */
  readonly events$: Observable<HaEvent>;
  /** Every FSM transition, with who caused the read. */
  readonly transitions$: Observable<PowerTransition>;

  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly config: PowerServiceConfig;
  private readonly drivers = new Map<string, PowerDriver>();
  private readonly hosts = new Map<string, HostEntry>();
  private readonly queues = new Map<string, SerialQueue>();
  private readonly lastAuthEvent = new Map<string, number>();
  private readonly events = new Subject<HaEvent>();
  private readonly transitions = new Subject<PowerTransition>();
  private readonly life = new AbortController();
  /** Sequence of operations handed to controllers (see {@link PowerOpOptions.onDispatch}). */
  private dispatchSeq = 0;
  private readonly sync: SyncDaemon;

  /** Builds the service; no I/O happens until an operation or {@link PowerManagementService.startSync}. */
  constructor(options: PowerServiceOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
    this.config = { ...DEFAULT_POWER_CONFIG, ...stripUndefined(options.config ?? {}) };
    const cap = this.config.powerSyncMaxBackoff;
    if (!(cap > 0) || !Number.isFinite(cap))
      throw new ConfigError([{ path: 'powerSyncMaxBackoff', value: cap, rule: 'must be a positive number of ms' }]);
    for (const d of options.drivers) this.drivers.set(d.name, d);
    setMaxListeners(0, this.life.signal); // every running operation listens to it; not a leak
    this.events$ = this.events.asObservable();
    this.transitions$ = this.transitions.asObservable();
    this.sync = new SyncDaemon({
      clock: this.clock,
      intervalMs: this.config.powerSyncInterval,
      maxBackoffMs: cap,
      jitterFraction: this.config.jitterFraction,
      seed: this.config.seed,
      concurrency: this.config.powerSyncConcurrency,
      read: (host) => this.status(host, { by: 'sync' }),
    });
  }

  /**
   * Adds or replaces a host; its power state starts `UNKNOWN`. Unknown driver names are a
   * {@link ConfigError}. Registering a host again with the same binding (the same object,
   * or equal drivers, timeout and target) changes nothing: its state, failure streak and
   * sync schedule stay. `HaService.addResource({ power })` registers the resource's binding
   * here itself; callers that still register it first keep working.
   */
  register(host: string, binding: PowerBinding): void {
    const known = this.hosts.get(host);
    if (known && sameBinding(known.binding, binding)) return;
    const names = binding.drivers ?? this.config.defaultPowerDrivers;
    const chosen = names.length > 0 ? names : [...this.drivers.keys()].slice(0, 1);
    if (chosen.length === 0)
      throw new ConfigError([{ path: `hosts.${host}.drivers`, value: [], rule: 'no power driver configured' }]);
    const chain = chosen.map((name) => {
      const d = this.drivers.get(name);
      if (!d)
        throw new ConfigError([
          {
            path: `hosts.${host}.drivers`,
            value: name,
            rule: `unknown power driver (known: ${[...this.drivers.keys()].join(', ')})`,
          },
        ]);
      return d;
    });
    this.hosts.set(host, { binding, chain, state: 'UNKNOWN', failures: 0, alerted: false });
    if (!this.queues.has(host)) this.queues.set(host, new SerialQueue());
    this.sync.add(host);
  }

  /** Forgets a host; operations already queued still run. */
  unregister(host: string): void {
    this.hosts.delete(host);
    this.sync.remove(host);
    if (this.queues.get(host)?.pending === 0) this.queues.delete(host);
  }

  /** Whether `host` is registered. */
  has(host: string): boolean {
    return this.hosts.has(host);
  }

  /** The host's power state as the FSM tracks it. */
  state(host: string): PowerState {
    return this.entry(host).state;
  }

  /** Hosts registered, in registration order. */
  list(): string[] {
    return [...this.hosts.keys()];
  }

  /**
   * Reads the chassis power now; the result (or failure) feeds the power FSM and the
   * host's failure streak. Not an action: no `power.action` event (docs/behaviour.md#kvm-hosts).
   */
  async status(host: string, opts: PowerOpOptions): Promise<ChassisPower> {
    const entry = this.entry(host);
    let power: ChassisPower;
    let seq: number | undefined;
    const tracked: PowerOpOptions = {
      ...opts,
      onDispatch: (s) => {
        seq = s;
        opts.onDispatch?.(s);
      },
    };
    try {
      power = await this.perform(host, entry, 'status', tracked, (d, t, c) => d.status(t, c));
    } catch (err) {
      if (!this.aborted(opts) && this.hosts.get(host) === entry) this.readFailed(host, entry, err, opts.by, seq);
      throw err;
    }
    if (this.hosts.get(host) === entry) this.readSucceeded(host, entry, power, opts.by, seq);
    return power;
  }

  /**
   * The host's first power read, for a caller that judged the host by its power at `judgedAt`
   * (default: now) — docs/behaviour.md#power: the first read comes before eligibility is judged.
   * Undefined when a read of the host had ended by then (the judgement saw its outcome), when
   * the host is not registered, or when the sync daemon is not running. A promise otherwise:
   * already resolved when the first read ended after `judgedAt`; else the sync daemon reads
   * the host now, within its concurrency limit (or the caller joins the read already running),
   * and it resolves when that read has ended — also when it failed or timed out; it never
   * rejects. The state is then what that read made it (`UNKNOWN` after a failed read).
   */
  firstRead(host: string, judgedAt = this.clock.now()): Promise<void> | undefined {
    const entry = this.hosts.get(host);
    if (!entry || !this.sync.started) return undefined;
    if (entry.readAt !== undefined) return entry.readAt > judgedAt ? Promise.resolve() : undefined;
    return this.sync.readNow(host);
  }

  /** Sends a chassis command (`on`, `off`, `soft`, `cycle`, `reset`). */
  async command(host: string, cmd: ChassisCommand, opts: PowerOpOptions): Promise<void> {
    await this.perform(host, this.entry(host), cmd, opts, (d, t, c) => d.control(t, cmd, c));
  }

  /** Blinks the identify light for `seconds` (0 turns it off). */
  async identify(host: string, seconds: number, opts: PowerOpOptions): Promise<void> {
    await this.perform(host, this.entry(host), 'identify', opts, (d, t, c) => d.identify(t, seconds, c));
  }

  /** Proves address and credentials work, without changing power. */
  async validate(host: string, opts: PowerOpOptions): Promise<void> {
    await this.perform(host, this.entry(host), 'validate', opts, (d, t, c) => d.validate(t, c));
  }

  /** Starts the sync daemon (docs/behaviour.md#power). */
  startSync(): void {
    this.sync.start();
  }

  /** Stops the sync daemon; reads already running finish. */
  stopSync(): void {
    this.sync.stop();
  }

  /** Stops syncing, cancels running operations, closes the drivers and completes the streams. */
  async close(): Promise<void> {
    this.sync.stop();
    this.life.abort(new Error('power service closed'));
    await Promise.allSettled([...this.drivers.values()].map((d) => d.close?.()));
    this.events.complete();
    this.transitions.complete();
  }

  private entry(host: string): HostEntry {
    const e = this.hosts.get(host);
    if (!e) throw new NotFoundError('host', host);
    return e;
  }

  private aborted(opts: PowerOpOptions): boolean {
    return Boolean(opts.signal?.aborted) || this.life.signal.aborted;
  }

  private perform<T>(
    host: string,
    entry: HostEntry,
    op: PowerOperation,
    opts: PowerOpOptions,
    call: DriverCall<T>,
  ): Promise<T> {
    const secrets = [entry.binding.target.password];
    // A command's driver (the last one tried) and when it left the host's queue: its `power.action` reports both.
    let driver: string | undefined;
    let sentAt: number | undefined;
    const outcome = new Promise<T>((resolve, reject) => {
      void this.queueOf(host).run(async () => {
        const holds: Promise<void>[] = [];
        try {
          const timeoutMs = opts.timeoutMs ?? entry.binding.timeoutMs ?? this.config.powerOpTimeout;
          const signal = opts.signal ? AbortSignal.any([opts.signal, this.life.signal]) : this.life.signal;
          // Cancelled while it waited in the queue: it never reaches the controller.
          if (signal.aborted) throw abortReason(signal);
          const refused = opts.admit?.();
          if (refused !== undefined) throw new AbortedError(`not sent: ${refused}`);
          const seq = ++this.dispatchSeq;
          opts.onDispatch?.(seq);
          sentAt = this.clock.now();
          const onAttempt = (name: string) => (driver = name);
          const ctx = { clock: this.clock, logger: this.logger, host, op, timeoutMs, signal, holds, onAttempt };
          resolve(await runDriverChain(ctx, entry.chain, entry.binding.target, call));
        } catch (err) {
          reject(err);
        }
        await Promise.all(holds);
      });
    });
    const guarded = opts.signal ? raceAbort(outcome, opts.signal) : outcome;
    const action = op !== 'status'; // a status read is not an action (docs/behaviour.md#kvm-hosts)
    return guarded.then(
      (value) => {
        if (action) this.emit(this.actionEvent(host, op, opts, { ok: true }, driver, sentAt));
        return value;
      },
      (err: unknown) => {
        const safe = scrub(err, secrets);
        if (action) {
          this.emit(this.actionEvent(host, op, opts, { ok: false, error: safe.message }, driver, sentAt));
          // Cancelled by close() (a shutdown): expected, not a warning.
          const log = this.life.signal.aborted ? this.logger.debug : this.logger.warn;
          log.call(this.logger, 'power operation failed', { host, op, by: opts.by, error: safe.message });
        }
        if (safe instanceof AuthError) this.reportAuthFailure(host);
        throw safe;
      },
    );
  }

  private actionEvent(
    host: string,
    op: PowerOperation,
    opts: PowerOpOptions,
    result: { ok: boolean; error?: string },
    driver: string | undefined,
    sentAt: number | undefined,
  ): HaEvent {
    const t = this.clock.now();
    return {
      t,
      type: 'power.action',
      host,
      action: op,
      by: opts.by,
      ...result,
      ...(driver !== undefined ? { driver } : {}),
      ...(sentAt !== undefined ? { durationMs: t - sentAt } : {}),
    };
  }

  private queueOf(host: string): SerialQueue {
    let q = this.queues.get(host);
    if (!q) {
      q = new SerialQueue();
      this.queues.set(host, q);
    }
    return q;
  }

  /**
   * A failed read: opens or lengthens the host's failure streak (docs/behaviour.md#power: the UNKNOWN rule and
   * failure-streak reporting).
   */
  private readFailed(host: string, entry: HostEntry, err: unknown, by: Requester, seq?: number): void {
    const error = err instanceof Error ? err.message : String(err); // already scrubbed by perform
    const now = this.clock.now();
    entry.readAt ??= now;
    entry.failures++;
    if (entry.failures === 1) {
      this.logger.warn('power reads failing', { host, by, error });
      this.emit({ t: now, type: 'power.read-failing', host, error });
    } else {
      this.logger.debug('power read failed', { host, by, failures: entry.failures, error });
    }
    const limit = entry.failures >= this.config.powerReadsToUnknown;
    this.feed(host, entry, limit ? 'read-failed-limit' : 'read-failed', by, seq);
    // A refusal of the credentials is an answer: it has its own (daily) alert.
    if (limit && !entry.alerted && !(err instanceof AuthError)) {
      entry.alerted = true;
      this.emit({
        t: now,
        type: 'alert',
        level: 'warning',
        code: 'controller-unreachable',
        resource: host,
        message: `power controller of ${host} did not answer ${entry.failures} status reads in a row (${error})`,
      });
    }
  }

  /** A successful read: ends the host's failure streak, if any, and feeds the FSM. */
  private readSucceeded(host: string, entry: HostEntry, power: ChassisPower, by: Requester, seq?: number): void {
    const failures = entry.failures;
    const alerted = entry.alerted;
    entry.readAt ??= this.clock.now();
    entry.failures = 0;
    entry.alerted = false;
    if (failures > 0) {
      const now = this.clock.now();
      this.logger.info('power reads ok again', { host, by, failures });
      this.emit({ t: now, type: 'power.read-ok', host, failures });
      if (alerted) {
        this.emit({
          t: now,
          type: 'alert',
          level: 'info',
          code: 'controller-reachable',
          resource: host,
          message: `power controller of ${host} answers again after ${failures} failed status reads`,
        });
      }
    }
    this.feed(host, entry, power === 'ON' ? 'read-on' : 'read-off', by, seq);
  }

  private feed(host: string, entry: HostEntry, event: PowerEvent, by: Requester, seq?: number): void {
    const from = entry.state;
    const to = powerTransition(from, event);
    if (!to || to === from) return;
    entry.state = to;
    this.logger.info('power state changed', { host, from, to, by });
    this.emit({ t: this.clock.now(), type: 'power.transition', host, from, to });
    this.transitions.next({ host, from, to, by, ...(seq === undefined ? {} : { seq }) });
  }

  private reportAuthFailure(host: string): void {
    const now = this.clock.now();
    const last = this.lastAuthEvent.get(host);
    if (last !== undefined && now - last < DAY_MS) return;
    this.lastAuthEvent.set(host, now);
    this.emit({ t: now, type: 'power.auth-failed', host });
    this.emit({
      t: now,
      type: 'alert',
      level: 'warning',
      code: 'controller-auth-refused',
      resource: host,
      message: `power controller of ${host} refused the credentials`,
    });
  }

  private emit(event: HaEvent): void {
    if (!this.events.closed) this.events.next(event);
  }
}

/** Whether two bindings name the same controller the same way (passwords compared by value). */
export function sameBinding(a: PowerBinding, b: PowerBinding): boolean {
  if (a === b) return true;
  const ta = a.target;
  const tb = b.target;
  return (
    a.timeoutMs === b.timeoutMs &&
    JSON.stringify(a.drivers ?? null) === JSON.stringify(b.drivers ?? null) &&
    ta.host === tb.host &&
    ta.address === tb.address &&
    ta.port === tb.port &&
    ta.username === tb.username &&
    ta.password?.reveal() === tb.password?.reveal() &&
    JSON.stringify(ta.options ?? {}) === JSON.stringify(tb.options ?? {})
  );
}
