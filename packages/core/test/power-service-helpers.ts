import {
  abortReason,
  type ChassisCommand,
  type ChassisPower,
  type PowerCallOptions,
  type PowerDriver,
  type PowerTarget,
} from '@hafence/core';

/** A driver whose behaviour each test scripts; records concurrency per host. */
export class ScriptedDriver implements PowerDriver {
  calls: string[] = [];
  active = 0;
  maxActive = 0;
  power: ChassisPower = 'ON';
  /** Runs for every call; default answers at once. */
  behave: (op: string, target: PowerTarget, options: PowerCallOptions) => Promise<void> = async () => {};

  constructor(readonly name: string) {}

  async status(target: PowerTarget, options: PowerCallOptions): Promise<ChassisPower> {
    await this.enter('status', target, options);
    return this.power;
  }

  async control(target: PowerTarget, command: ChassisCommand, options: PowerCallOptions): Promise<void> {
    await this.enter(command, target, options);
    if (command === 'on') this.power = 'ON';
    if (command === 'off' || command === 'soft') this.power = 'OFF';
  }

  async identify(target: PowerTarget, seconds: number, options: PowerCallOptions): Promise<void> {
    await this.enter(`identify ${seconds}`, target, options);
  }

  async validate(target: PowerTarget, options: PowerCallOptions): Promise<void> {
    await this.enter('validate', target, options);
  }

  private async enter(op: string, target: PowerTarget, options: PowerCallOptions): Promise<void> {
    if (options.signal.aborted) throw abortReason(options.signal);
    this.calls.push(op);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      await this.behave(op, target, options);
    } finally {
      this.active--;
    }
  }
}

/** A promise that never settles: a driver that ignores its signal. */
export const forever = () => new Promise<void>(() => {});
