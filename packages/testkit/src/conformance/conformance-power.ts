import { abortReason, UnreachableError, type ChassisPower, type PowerControl } from '@hafence/core';

/**
 * How the suite's chassis behaves: `working` (off is followed by an OFF read),
 * `lying` (acknowledges off but stays ON), `already-off`, `unreachable` (every call
 * fails with `UnreachableError`), `hanging` (no call answers until the signal aborts).
 */
export type ConformancePowerMode = 'working' | 'lying' | 'already-off' | 'unreachable' | 'hanging';

/** Commands that stop a chassis, as {@link ConformancePower} logs them. */
const STOPS = new Set(['off', 'cycle', 'reset']);

/**
 * The scripted {@link PowerControl} the provider conformance suite hands in `ctx.power`.
 * It logs every call and knows whether the chassis was read back OFF after the last
 * stop command, which is the only proof a recover or fence success may rest on.
 */
export class ConformancePower implements PowerControl {
  /** Every call in order (`status`, `on`, `off`, `cycle`, `reset`). */
  readonly calls: string[] = [];
  private power: ChassisPower;
  private offRead = false;

  /** Builds the chassis in `mode`; calls reject with the abort reason once `signal` fired. */
  constructor(
    readonly mode: ConformancePowerMode,
    private readonly signal: AbortSignal,
  ) {
    this.power = mode === 'already-off' ? 'OFF' : 'ON';
  }

  /** A status read returned OFF after the last stop command (a later `on` does not undo the proof). */
  get offVerified(): boolean {
    return this.offRead;
  }

  /** Stop commands sent (`off`, `cycle`, `reset`). */
  get stopCommands(): number {
    return this.calls.filter((c) => STOPS.has(c)).length;
  }

  /** Reads the chassis. */
  async status(): Promise<ChassisPower> {
    await this.enter('status');
    if (this.power === 'OFF') this.offRead = true;
    return this.power;
  }

  /** Powers on. */
  async on(): Promise<void> {
    await this.enter('on');
    this.power = 'ON';
  }

  /** Hard off: the chassis goes OFF unless it lies. */
  async off(): Promise<void> {
    await this.stop('off');
    if (this.mode !== 'lying') this.power = 'OFF';
  }

  /** Power cycle: ends ON. */
  async cycle(): Promise<void> {
    await this.stop('cycle');
  }

  /** Hard reset: ends ON. */
  async reset(): Promise<void> {
    await this.stop('reset');
  }

  private async stop(command: string): Promise<void> {
    await this.enter(command);
    this.offRead = false;
  }

  private async enter(call: string): Promise<void> {
    this.calls.push(call);
    if (this.signal.aborted) throw abortReason(this.signal);
    if (this.mode === 'unreachable')
      throw new UnreachableError('conformance-host', 'conformance', 'no route to the controller');
    if (this.mode === 'hanging') {
      await new Promise<never>((_, reject) =>
        this.signal.addEventListener('abort', () => reject(abortReason(this.signal)), { once: true }),
      );
    }
  }
}
