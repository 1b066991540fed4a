import { setMaxListeners } from 'node:events';
import { Observable, Subject } from 'rxjs';
import type { Clock } from '../spi/clock.js';
import type { Logger } from '../spi/logger.js';
import type {
  ChassisCommand, ChassisPower, PowerBinding, PowerDriver, PowerOperation, PowerState,
} from '../spi/power-driver.js';
import type { HaEvent, Requester } from '../events/ha-event.js';
import { ConfigError, NotFoundError } from '../errors/engine-errors.js';
import { AuthError } from '../errors/power-errors.js';
import { powerTransition, type PowerEvent } from '../fsm/power-fsm.js';
import { systemClock } from '../util/system-clock.js';
import { raceAbort } from '../util/delay.js';
import { SerialQueue } from './concurrency.js';
import { runDriverChain, type DriverCall } from './driver-chain.js';
import { noopLogger } from './noop-logger.js';
import { scrub, stripUndefined } from './op-helpers.js';
import { SyncDaemon } from './sync-daemon.js';

/** Power settings of the service (SPEC §4 names and defaults). */
export interface PowerServiceConfig {
  readonly powerOpTimeout: number;
  readonly powerReadsToUnknown: number;
  readonly powerSyncInterval: number;
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
}

/** One change of a host's power state, with who caused the read. */
export interface PowerTransition {
  readonly host: string;
  readonly from: PowerState;
  readonly to: PowerState;
  readonly by: Requester;
}

/** Power settings used when the caller gives none (SPEC §4). */
export const DEFAULT_POWER_CONFIG: PowerServiceConfig = {
  powerOpTimeout: 20_000,
  powerReadsToUnknown: 3,
  powerSyncInterval: 30_000,
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
  failures: number;
}

/**
 * The power management service (SPEC §1): per-host power FSM, one operation at a time
 * per BMC, a timeout on every driver attempt, a per-host driver fallback chain, events
 * for every action and transition, and the sync daemon. Secrets are redacted from every
 * event, log line and error it passes on.
 *
 * @example
 * const power = new PowerManagementService({ drivers: [new ScriptPowerDriver({ preset: 'ipmitool' })] });
 * power.register('kvm1', { drivers: ['script'], target: { host: 'kvm1', address: '10.0.0.11', username: 'admin', password } });
 * await power.command('kvm1', 'off', { by: 'operator' });
 */
export class PowerManagementService {
  /** Every event: `power.transition`, `power.action`, `power.auth-failed`, `alert`, stamped with `clock.now()`. */
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
  private readonly sync: SyncDaemon;

  /** Builds the service; no I/O happens until an operation or {@link PowerManagementService.startSync}. */
  constructor(options: PowerServiceOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
    this.config = { ...DEFAULT_POWER_CONFIG, ...stripUndefined(options.config ?? {}) };
    for (const d of options.drivers) this.drivers.set(d.name, d);
    setMaxListeners(0, this.life.signal); // every running operation listens to it; not a leak
    this.events$ = this.events.asObservable();
    this.transitions$ = this.transitions.asObservable();
    this.sync = new SyncDaemon({
      clock: this.clock,
      intervalMs: this.config.powerSyncInterval,
      jitterFraction: this.config.jitterFraction,
      seed: this.config.seed,
      concurrency: this.config.powerSyncConcurrency,
      read: (host) => this.status(host, { by: 'sync' }),
    });
  }

  /** Adds or replaces a host; its power state starts `UNKNOWN`. Unknown driver names are a {@link ConfigError}. */
  register(host: string, binding: PowerBinding): void {
    const names = binding.drivers ?? this.config.defaultPowerDrivers;
    const chosen = names.length > 0 ? names : [...this.drivers.keys()].slice(0, 1);
    if (chosen.length === 0) throw new ConfigError([{ path: `hosts.${host}.drivers`, value: [], rule: 'no power driver configured' }]);
    const chain = chosen.map((name) => {
      const d = this.drivers.get(name);
      if (!d) throw new ConfigError([{ path: `hosts.${host}.drivers`, value: name, rule: `unknown power driver (known: ${[...this.drivers.keys()].join(', ')})` }]);
      return d;
    });
    this.hosts.set(host, { binding, chain, state: 'UNKNOWN', failures: 0 });
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

  /** Reads the chassis power now; the result (or failure) feeds the power FSM. */
  async status(host: string, opts: PowerOpOptions): Promise<ChassisPower> {
    const entry = this.entry(host);
    try {
      const power = await this.perform(host, entry, 'status', opts, (d, t, c) => d.status(t, c));
      this.feed(host, entry, power === 'ON' ? 'read-on' : 'read-off', opts.by);
      return power;
    } catch (err) {
      if (!this.aborted(opts)) this.feed(host, entry, 'read-failed', opts.by);
      throw err;
    }
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

  /** Starts the sync daemon (SPEC §1). */
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

  private perform<T>(host: string, entry: HostEntry, op: PowerOperation, opts: PowerOpOptions, call: DriverCall<T>): Promise<T> {
    const secrets = [entry.binding.target.password];
    const outcome = new Promise<T>((resolve, reject) => {
      void this.queueOf(host).run(async () => {
        const holds: Promise<void>[] = [];
        try {
          const timeoutMs = opts.timeoutMs ?? entry.binding.timeoutMs ?? this.config.powerOpTimeout;
          const signal = opts.signal ? AbortSignal.any([opts.signal, this.life.signal]) : this.life.signal;
          const ctx = { clock: this.clock, logger: this.logger, host, op, timeoutMs, signal, holds };
          resolve(await runDriverChain(ctx, entry.chain, entry.binding.target, call));
        } catch (err) {
          reject(err);
        }
        await Promise.all(holds);
      });
    });
    const guarded = opts.signal ? raceAbort(outcome, opts.signal) : outcome;
    return guarded.then(
      (value) => {
        this.emit({ t: this.clock.now(), type: 'power.action', host, action: op, by: opts.by, ok: true });
        return value;
      },
      (err: unknown) => {
        const safe = scrub(err, secrets);
        this.emit({ t: this.clock.now(), type: 'power.action', host, action: op, by: opts.by, ok: false, error: safe.message });
        this.logger.warn('power operation failed', { host, op, by: opts.by, error: safe.message });
        if (safe instanceof AuthError) this.reportAuthFailure(host);
        throw safe;
      },
    );
  }

  private queueOf(host: string): SerialQueue {
    let q = this.queues.get(host);
    if (!q) {
      q = new SerialQueue();
      this.queues.set(host, q);
    }
    return q;
  }

  private feed(host: string, entry: HostEntry, read: 'read-on' | 'read-off' | 'read-failed', by: Requester): void {
    if (this.hosts.get(host) !== entry) return; // replaced or removed while the read ran
    let event: PowerEvent = read;
    if (read === 'read-failed') {
      entry.failures++;
      if (entry.failures >= this.config.powerReadsToUnknown) event = 'read-failed-limit';
    } else {
      entry.failures = 0;
    }
    const from = entry.state;
    const to = powerTransition(from, event);
    if (!to || to === from) return;
    entry.state = to;
    this.logger.info('power state changed', { host, from, to, by });
    this.emit({ t: this.clock.now(), type: 'power.transition', host, from, to });
    this.transitions.next({ host, from, to, by });
  }

  private reportAuthFailure(host: string): void {
    const now = this.clock.now();
    const last = this.lastAuthEvent.get(host);
    if (last !== undefined && now - last < DAY_MS) return;
    this.lastAuthEvent.set(host, now);
    this.emit({ t: now, type: 'power.auth-failed', host });
    this.emit({ t: now, type: 'alert', level: 'warning', code: 'controller-auth-refused', resource: host, message: `power controller of ${host} refused the credentials` });
  }

  private emit(event: HaEvent): void {
    if (!this.events.closed) this.events.next(event);
  }
}
