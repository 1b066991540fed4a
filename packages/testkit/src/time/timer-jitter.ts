import { keyedSequence } from '@hafence/core/internal';
import { TestClockOptionsError } from './test-clock-error.js';

/** How far a jittered {@link TestClock}'s timers may fire from their deadline. */
export interface TestClockJitterOptions {
  /** Seeds the offsets: the same seed and the same timers give the same firing times. */
  readonly seed: number;
  /** At most this many ms early (default 2; Node fires up to 1 ms before `Date.now()` reaches a deadline). */
  readonly earlyMs?: number;
  /** At most this many ms late (default 50: a busy event loop). */
  readonly lateMs?: number;
}

/** Draws the seeded firing offsets of a jittered {@link TestClock}. */
export class TimerJitter {
  readonly seed: number;
  readonly earlyMs: number;
  readonly lateMs: number;
  private readonly next: () => number;

  /** Validates `options` and starts the seeded sequence. */
  constructor(options: TestClockJitterOptions) {
    this.seed = check('jitter.seed', options.seed, Number.isSafeInteger(options.seed), 'a safe integer');
    this.earlyMs = nonNegative('jitter.earlyMs', options.earlyMs ?? 2);
    this.lateMs = nonNegative('jitter.lateMs', options.lateMs ?? 50);
    this.next = keyedSequence(this.seed, 'test-clock', 'timer-offset');
  }

  /**
   * The next offset in ms: half the timers fire early by 1..earlyMs, the other half late
   * by 0..lateMs (uniform integers), so early firing is common enough to matter.
   */
  offset(): number {
    const early = this.next() < 0.5 && this.earlyMs > 0;
    const r = this.next();
    return early ? -(1 + Math.floor(r * this.earlyMs)) : Math.floor(r * (this.lateMs + 1));
  }
}

function nonNegative(field: string, value: number): number {
  return check(field, value, Number.isSafeInteger(value) && value >= 0, 'a non-negative integer of ms');
}

function check(field: string, value: number, ok: boolean, rule: string): number {
  if (!ok) throw new TestClockOptionsError(field, value, rule);
  return value;
}
