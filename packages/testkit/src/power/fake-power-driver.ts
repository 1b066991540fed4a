import {
  AuthError,
  DriverError,
  abortReason,
  ProtocolError,
  TimeoutError,
  UnreachableError,
  delay,
  systemClock,
  type ChassisCommand,
  type ChassisPower,
  type Clock,
  type PowerCallOptions,
  type PowerDriver,
  type PowerTarget,
} from '@hafence/core';

/** Faults a {@link FakePowerDriver} chassis can be told to show. */
export type FakeBmcFault = 'none' | 'down' | 'auth' | 'hang' | 'garbage' | 'error';

/** One simulated chassis behind the fake driver. */
export interface FakeChassis {
  power: ChassisPower;
  fault: FakeBmcFault;
  /** Extra answer delay in ms (a slow BMC). */
  latencyMs: number;
  /** Commands received, in order. */
  readonly log: string[];
}

/** Options of {@link FakePowerDriver}. */
export interface FakePowerDriverOptions {
  /** Clock for latencies and hangs; the real clock by default. */
  readonly clock?: Clock;
  /** Registry name (default `fake`). */
  readonly name?: string;
  /** Base latency of every answer in ms (default 0). */
  readonly latencyMs?: number;
  /** Password every chassis expects (default `secret`); give the same in each binding's `target.password`. */
  readonly password?: string;
  /**
   * Called after every command a chassis accepted, with its power before and after: the
   * hook that ties a fake resource to its chassis (OFF kills it, ON boots it).
   */
  readonly onCommand?: (host: string, command: ChassisCommand, before: ChassisPower, after: ChassisPower) => void;
}

/**
 * A scriptable in-memory power driver (registry name `fake`, password `secret` unless
 * told otherwise): chassis per host with power state, latency and faults (down, wrong
 * credentials, hang, garbage, error). Honours the AbortSignal. `onCommand` ties a fake
 * resource to its chassis.
 *
 * @example
 * const driver = new FakePowerDriver({
 *   clock,
 *   onCommand: (host, cmd, before, after) => {
 *     if (after === 'OFF') world.kill(host);
 *     else if (before === 'OFF') world.boot(host);
 *   },
 * });
 * const power = new PowerManagementService({ drivers: [driver], clock, config: { defaultPowerDrivers: ['fake'] } });
 * // bindings: { target: { host, address: 'bmc-1', username: 'admin', password: new Secret('secret') } }
 */
export class FakePowerDriver implements PowerDriver {
  readonly name: string;
  private readonly clock: Clock;
  private readonly chassis = new Map<string, FakeChassis>();
  private readonly latencyMs: number;
  private readonly password: string;
  private readonly onCommand: FakePowerDriverOptions['onCommand'];

  /** Builds a driver with no chassis; they are created on first use (power ON). */
  constructor(options: FakePowerDriverOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.name = options.name ?? 'fake';
    this.latencyMs = options.latencyMs ?? 0;
    this.password = options.password ?? 'secret';
    this.onCommand = options.onCommand;
  }

  /** The chassis of `host` (created ON if new). */
  host(host: string): FakeChassis {
    let c = this.chassis.get(host);
    if (!c) {
      c = { power: 'ON', fault: 'none', latencyMs: 0, log: [] };
      this.chassis.set(host, c);
    }
    return c;
  }

  async status(target: PowerTarget, options: PowerCallOptions): Promise<ChassisPower> {
    const c = await this.enter(target, 'status', options);
    return c.power;
  }

  async control(target: PowerTarget, command: ChassisCommand, options: PowerCallOptions): Promise<void> {
    const c = await this.enter(target, command, options);
    const before = c.power;
    if (command === 'on') c.power = 'ON';
    else if (command === 'off' || command === 'soft') c.power = 'OFF';
    this.onCommand?.(target.host, command, before, c.power);
  }

  async identify(target: PowerTarget, seconds: number, options: PowerCallOptions): Promise<void> {
    await this.enter(target, `identify ${seconds}`, options);
  }

  async validate(target: PowerTarget, options: PowerCallOptions): Promise<void> {
    await this.enter(target, 'validate', options);
  }

  private async enter(target: PowerTarget, op: string, options: PowerCallOptions): Promise<FakeChassis> {
    if (options.signal.aborted) throw abortReason(options.signal);
    const c = this.host(target.host);
    const wait = this.latencyMs + c.latencyMs;
    if (c.fault === 'hang' || c.fault === 'down') {
      await delay(this.clock, options.timeoutMs, options.signal);
      if (c.fault === 'down') throw new UnreachableError(target.host, target.address, 'no answer');
      throw new TimeoutError(op, options.timeoutMs, target.host);
    }
    if (wait > 0) await delay(this.clock, wait, options.signal);
    if (target.password?.reveal() !== this.password || c.fault === 'auth') {
      throw new AuthError(target.host, this.name);
    }
    if (c.fault === 'garbage') throw new ProtocolError(target.host, 'unparseable answer');
    if (c.fault === 'error') throw new DriverError(this.name, target.host, 'controller error');
    c.log.push(op);
    return c;
  }
}
