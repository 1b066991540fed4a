import type { ChassisCommand, ChassisPower, Clock, PowerCallOptions, PowerDriver, PowerTarget } from '@hafence/core';

/** One chassis command the simulated BMCs carried out, with the management server that sent it. */
export interface SimBmcCommand {
  /** Virtual time the BMC carried it out. */
  readonly at: number;
  readonly ms: string;
  readonly host: string;
  readonly command: ChassisCommand;
}

/**
 * A management server's own way to the shared simulated BMCs (several servers): the same chassis, with every command
 * recorded under the server that sent it.
 */
export class SimServerBmc implements PowerDriver {
  readonly name: string;

  /** Wraps `bmc` for server `msId`; commands go to `log`. */
  constructor(
    private readonly bmc: PowerDriver,
    private readonly msId: string,
    private readonly clock: Clock,
    private readonly log: SimBmcCommand[],
  ) {
    this.name = bmc.name;
  }

  status(target: PowerTarget, options: PowerCallOptions): Promise<ChassisPower> {
    return this.bmc.status(target, options);
  }

  async control(target: PowerTarget, command: ChassisCommand, options: PowerCallOptions): Promise<void> {
    await this.bmc.control(target, command, options);
    // Logged when the controller carried it out: a command its sender gave up on (a crash
    // aborts it during a slow BMC's delay) never reached the chassis.
    this.log.push({ at: this.clock.now(), ms: this.msId, host: target.host, command });
  }

  identify(target: PowerTarget, seconds: number, options: PowerCallOptions): Promise<void> {
    return this.bmc.identify(target, seconds, options);
  }

  validate(target: PowerTarget, options: PowerCallOptions): Promise<void> {
    return this.bmc.validate(target, options);
  }
}
