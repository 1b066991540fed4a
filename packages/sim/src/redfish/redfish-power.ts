import type { Clock, TimerHandle } from '@hafence/core';

/** A settled power state. */
export type SimPowerState = 'On' | 'Off';

/** Redfish `PowerState` as a client reads it, transitions included. */
export type RedfishPowerState = SimPowerState | 'PoweringOn' | 'PoweringOff';

/** How long the power model takes for each kind of change. */
export interface RedfishPowerDelays {
  /** `ForceOff` (and the off half of `PowerCycle`) lands this long after the reply (default 100 ms). */
  readonly forceOffMs?: number;
  /** `GracefulShutdown` (the OS shutting down) takes this long (default 3000 ms). */
  readonly gracefulShutdownMs?: number;
  /** `On`/`ForceOn` takes this long (default 200 ms). */
  readonly onMs?: number;
}

/** One accepted `ComputerSystem.Reset`. */
export interface RedfishResetRecord {
  readonly resetType: string;
  /** Clock time it was accepted. */
  readonly at: number;
}

/** How a reset's power change ended: done, or replaced by a later reset or a forced state. */
export type ResetOutcome = 'Completed' | 'Cancelled';

interface Step {
  readonly to: SimPowerState;
  readonly ms: number;
}

interface Pending {
  steps: Step[];
  timer?: TimerHandle;
  readonly done?: (outcome: ResetOutcome) => void;
}

/**
 * The power model behind a simulated Redfish system: each `ResetType` becomes a timed sequence of power changes
 * (`PowerCycle` is off then on, a restart keeps the power on), a later reset replaces a pending one, and every
 * accepted reset is logged.
 */
export class RedfishPower {
  readonly #clock: Clock;
  readonly #delays: Required<RedfishPowerDelays>;
  readonly #log: RedfishResetRecord[] = [];
  #state: SimPowerState;
  #pending?: Pending;

  constructor(clock: Clock, initial: SimPowerState, delays: RedfishPowerDelays = {}) {
    this.#clock = clock;
    this.#state = initial;
    this.#delays = {
      forceOffMs: delays.forceOffMs ?? 100,
      gracefulShutdownMs: delays.gracefulShutdownMs ?? 3000,
      onMs: delays.onMs ?? 200,
    };
  }

  /** The settled state (a pending change has not landed yet). */
  get state(): SimPowerState {
    return this.#state;
  }

  /** The state a client reads: with `transitions`, `PoweringOn`/`PoweringOff` while a change is pending. */
  reported(transitions: boolean): RedfishPowerState {
    const next = this.#pending?.steps[0];
    if (!transitions || !next) return this.#state;
    return next.to === 'On' ? 'PoweringOn' : 'PoweringOff';
  }

  /** Accepted resets, oldest first. */
  get resets(): ReadonlyArray<RedfishResetRecord> {
    return this.#log;
  }

  /** Forces the state now (a test's hand on the power cord); a pending change is cancelled. */
  set(state: SimPowerState): void {
    this.#cancel();
    this.#state = state;
  }

  /** Applies an allowed `ResetType`; `done` hears when its power change has landed (at once when there is none). */
  reset(resetType: string, done?: (outcome: ResetOutcome) => void): void {
    this.#log.push({ resetType, at: this.#clock.now() });
    const steps = this.#plan(resetType);
    if (steps.length === 0) {
      done?.('Completed');
      return;
    }
    this.#cancel();
    this.#pending = { steps, done };
    this.#arm();
  }

  /** Cancels timers (at close). */
  stop(): void {
    this.#cancel();
  }

  #plan(resetType: string): Step[] {
    const { forceOffMs, gracefulShutdownMs, onMs } = this.#delays;
    const isOn = this.#state === 'On';
    const pendingOff = this.#pending?.steps.some((s) => s.to === 'Off') ?? false;
    switch (resetType) {
      case 'On':
      case 'ForceOn':
        return isOn && !pendingOff ? [] : [{ to: 'On', ms: onMs }];
      case 'ForceOff':
        return !isOn && !this.#pending ? [] : [{ to: 'Off', ms: forceOffMs }];
      case 'GracefulShutdown':
        return !isOn || pendingOff ? [] : [{ to: 'Off', ms: gracefulShutdownMs }];
      case 'PushPowerButton':
        return isOn ? [{ to: 'Off', ms: gracefulShutdownMs }] : [{ to: 'On', ms: onMs }];
      // A restart resets the host without removing power: PowerState stays On (no Off in between).
      case 'GracefulRestart':
      case 'ForceRestart':
        return isOn && !pendingOff ? [] : [{ to: 'On', ms: onMs }];
      case 'PowerCycle':
        return isOn
          ? [
              { to: 'Off', ms: forceOffMs },
              { to: 'On', ms: onMs },
            ]
          : [{ to: 'On', ms: onMs }];
      default:
        return []; // Nmi, and anything else the variant allows without a power change
    }
  }

  #arm(): void {
    const p = this.#pending;
    const step = p?.steps[0];
    if (!p || !step) return;
    p.timer = this.#clock.setTimeout(() => {
      p.timer = undefined;
      this.#state = step.to;
      p.steps.shift();
      if (p.steps.length > 0) {
        this.#arm();
        return;
      }
      this.#pending = undefined;
      p.done?.('Completed');
    }, step.ms);
  }

  #cancel(): void {
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    if (p.timer !== undefined) this.#clock.clearTimeout(p.timer);
    p.done?.('Cancelled');
  }
}
