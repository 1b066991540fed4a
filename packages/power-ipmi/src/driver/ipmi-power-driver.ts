import {
  DriverError,
  HaError,
  type ChassisCommand,
  type ChassisPower,
  type PowerCallOptions,
  type PowerDriver,
  type PowerTarget,
} from '@hafence/core';
import type { DeviceId } from '../protocol/commands.js';
import { IpmiClient, type ChassisAction, type IpmiClientOptions } from '../transport/ipmi-client.js';
import { toIpmiBmc } from './ipmi-target.js';

/** Options of {@link IpmiPowerDriver}: the client's, or a client to share. */
export interface IpmiPowerDriverOptions extends IpmiClientOptions {
  /** Use this client instead of creating one (the driver then does not close it). */
  readonly client?: IpmiClient;
}

const ACTIONS: Readonly<Record<ChassisCommand, ChassisAction>> = {
  on: 'up',
  off: 'down',
  soft: 'softShutdown',
  cycle: 'cycle',
  reset: 'hardReset',
};

/**
 * The native IPMI 2.0 power driver (`ipmi`): RMCP+ over UDP with cipher suite 17 by
 * default, sessions kept open and reused between calls.
 *
 * @example
 * const driver = new IpmiPowerDriver();
 * const target = { host: 'kvm1', address: '10.0.0.5', username: 'admin', password: new Secret(pw) };
 * await driver.status(target, { signal: AbortSignal.timeout(5000), timeoutMs: 5000 });
 */
export class IpmiPowerDriver implements PowerDriver {
  /** Registry name. */
  readonly name = 'ipmi';
  readonly #client: IpmiClient;
  readonly #ownClient: boolean;

  /** Creates the driver. */
  constructor(options: IpmiPowerDriverOptions = {}) {
    this.#ownClient = !options.client;
    this.#client = options.client ?? new IpmiClient(options);
  }

  /** Get Chassis Status → `ON`/`OFF`. */
  status(target: PowerTarget, options: PowerCallOptions): Promise<ChassisPower> {
    return this.#guard(target, options, async () =>
      (await this.#client.chassisStatus(toIpmiBmc(target), options)).powerOn ? 'ON' : 'OFF',
    );
  }

  /** Chassis Control: on, off, soft, cycle, reset. */
  control(target: PowerTarget, command: ChassisCommand, options: PowerCallOptions): Promise<void> {
    return this.#guard(target, options, () =>
      this.#client.chassisControl(toIpmiBmc(target), ACTIONS[command], options),
    );
  }

  /** Chassis Identify for `seconds` (0 off). */
  identify(target: PowerTarget, seconds: number, options: PowerCallOptions): Promise<void> {
    return this.#guard(target, options, () => this.#client.chassisIdentify(toIpmiBmc(target), seconds, options));
  }

  /** Logs in and reads Get Device ID, changing nothing. */
  async validate(target: PowerTarget, options: PowerCallOptions): Promise<void> {
    await this.deviceId(target, options);
  }

  /** Get Device ID of the target's BMC. */
  deviceId(target: PowerTarget, options: PowerCallOptions): Promise<DeviceId> {
    return this.#guard(target, options, () => this.#client.deviceId(toIpmiBmc(target), options));
  }

  /** Closes every session and the socket (only when the driver created its client). */
  async close(): Promise<void> {
    if (this.#ownClient) await this.#client.close();
  }

  async #guard<T>(target: PowerTarget, options: PowerCallOptions, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      // Typed errors and the caller's abort reason pass through; anything else is a bug
      // or an OS error, reported as a DriverError with the cause kept.
      if (err instanceof HaError || (options.signal.aborted && err === options.signal.reason)) throw err;
      throw new DriverError('ipmi', target.host, err instanceof Error ? err.message : String(err), { cause: err });
    }
  }
}
