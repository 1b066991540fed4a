import { systemClock, type ChassisPower, type Clock } from '@hafence/core';

/** Timing of the simulated chassis. */
export interface SimChassisOptions {
  /** Initial power (default `OFF`). */
  readonly power?: ChassisPower;
  /** Power cycle: off now, on this much later (default 200 ms; ipmi_sim uses 1 s). */
  readonly cycleMs?: number;
  /** Soft shutdown: the "OS" powers off this much later (default 0). */
  readonly softOffMs?: number;
  readonly clock?: Clock;
}

/** What happened to the chassis, in order (for assertions). */
export type ChassisLogEntry = 'on' | 'off' | 'cycle' | 'reset' | 'soft' | `identify ${number}`;

/**
 * The power model behind {@link SimBmc}: power state, delayed power-on after a cycle,
 * delayed soft shutdown, hard reset count, identify light, and a log of commands.
 */
export class SimChassis {
  /** Current power; tests may set it "behind the BMC's back". */
  power: ChassisPower;
  /** Hard resets received. */
  resets = 0;
  /** Seconds of the last identify request. */
  identifySeconds = 0;
  /** Every chassis command received, in order. */
  readonly log: ChassisLogEntry[] = [];
  readonly #clock: Clock;
  readonly #cycleMs: number;
  readonly #softOffMs: number;
  #timer: unknown;

  /** Creates a chassis. */
  constructor(options: SimChassisOptions = {}) {
    this.power = options.power ?? 'OFF';
    this.#clock = options.clock ?? systemClock;
    this.#cycleMs = options.cycleMs ?? 200;
    this.#softOffMs = options.softOffMs ?? 0;
  }

  /** Applies Chassis Control data byte `action`; returns a completion code. */
  control(action: number): number {
    switch (action) {
      case 0x00:
        this.#set('OFF');
        this.log.push('off');
        return 0;
      case 0x01:
        this.#set('ON');
        this.log.push('on');
        return 0;
      case 0x02:
        this.#set('OFF');
        this.log.push('cycle');
        this.#later(this.#cycleMs, 'ON');
        return 0;
      case 0x03:
        this.resets++;
        this.log.push('reset');
        return 0;
      case 0x05:
        this.log.push('soft');
        if (this.power === 'ON') this.#later(this.#softOffMs, 'OFF');
        return 0;
      default:
        return 0xcc;
    }
  }

  /** Chassis Identify for `seconds`. */
  identify(seconds: number): void {
    this.identifySeconds = seconds;
    this.log.push(`identify ${seconds}`);
  }

  /** Cancels a pending delayed power change. */
  stop(): void {
    this.#clock.clearTimeout(this.#timer);
  }

  #set(p: ChassisPower): void {
    this.stop();
    this.power = p;
  }

  #later(ms: number, p: ChassisPower): void {
    this.stop();
    if (ms <= 0) {
      this.power = p;
      return;
    }
    this.#timer = this.#clock.setTimeout(() => {
      this.power = p;
    }, ms);
  }
}
