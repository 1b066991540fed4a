import type { ChassisCommand, PowerCallOptions, PowerTarget } from '@hafence/core';
import { FakePowerDriver, type FakePowerDriverOptions } from '@hafence/testkit';

/** Called after a chassis command took effect: power before and after. */
export type ChassisListener = (
  host: string,
  command: ChassisCommand,
  before: 'ON' | 'OFF',
  after: 'ON' | 'OFF',
) => void;

/**
 * The in-process BMCs of a simulated KVM cluster: a {@link FakePowerDriver} whose
 * commands also reach the simulated hosts (an off stops the OS, an on or reset boots it).
 */
export class SimBmcDriver extends FakePowerDriver {
  /** Builds the driver; `listener` learns of every command that changed or reset a chassis. */
  constructor(
    options: FakePowerDriverOptions,
    private readonly listener: ChassisListener,
  ) {
    super(options);
  }

  override async control(target: PowerTarget, command: ChassisCommand, options: PowerCallOptions): Promise<void> {
    const before = this.host(target.host).power;
    await super.control(target, command, options);
    this.listener(target.host, command, before, this.host(target.host).power);
  }
}
