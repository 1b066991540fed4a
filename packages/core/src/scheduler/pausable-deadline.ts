import type { Clock, ReusableTimer } from '../spi/clock.js';
import { reusableTimer } from '../util/due-queue.js';

/**
 * A deadline on the injected clock that can be paused and resumed — a stop command
 * held by the fence budget does not use up its action's timeout (docs/behaviour.md#scheduling-and-guards).
 */
export class PausableDeadline {
  /** On the system clock, an entry of its shared timer queue: no runtime timer per job. */
  private readonly timer: ReusableTimer;
  private remaining: number;
  private startedAt = 0;
  private pauses = 0;
  private done = false;

  /** Arms a deadline of `ms`; `onExpire` runs once when it passes. */
  constructor(
    private readonly clock: Clock,
    ms: number,
    private readonly onExpire: () => void,
  ) {
    this.remaining = ms;
    this.timer = reusableTimer(clock, () => {
      if (this.done) return;
      this.done = true;
      this.onExpire();
    });
    this.arm();
  }

  /** Stops the countdown until the matching {@link resume}. Nested pauses are counted. */
  pause(): void {
    if (this.done || this.pauses++ > 0) return;
    this.timer.cancel();
    this.remaining -= this.clock.now() - this.startedAt;
  }

  /** Continues the countdown with the time that was left. */
  resume(): void {
    if (this.done || --this.pauses > 0) return;
    this.arm();
  }

  /** Cancels the deadline for good. */
  cancel(): void {
    this.done = true;
    this.timer.cancel();
  }

  private arm(): void {
    this.startedAt = this.clock.now();
    this.timer.arm(Math.max(0, this.remaining));
  }
}
