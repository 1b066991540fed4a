import type { Clock, ReusableTimer } from '../spi/clock.js';
import { reusableTimer } from '../util/due-queue.js';

/**
 * A deadline on the injected clock that can be paused and resumed — a stop command
 * held by the fence budget does not use up its action's timeout (docs/behaviour.md#scheduling-and-guards).
 * Made once and started for each owner in turn (the work scheduler keeps a pool: no deadline, timer or closure is
 * allocated per job).
 */
export class PausableDeadline<T> {
  /** On the system clock, an entry of its shared timer queue: no runtime timer per job. */
  private readonly timer: ReusableTimer;
  private owner: T | undefined;
  private remaining = 0;
  private startedAt = 0;
  private pauses = 0;
  private done = true;

  /** A deadline that is not running yet; `onExpire` runs with its owner once when a started deadline passes. */
  constructor(
    private readonly clock: Clock,
    private readonly onExpire: (owner: T) => void,
  ) {
    this.timer = reusableTimer(clock, () => {
      if (this.done) return;
      const owner = this.owner as T;
      this.done = true;
      this.owner = undefined;
      this.onExpire(owner);
    });
  }

  /** Starts a countdown of `ms` for `owner`, forgetting any earlier one. */
  start(ms: number, owner: T): void {
    this.owner = owner;
    this.remaining = ms;
    this.pauses = 0;
    this.done = false;
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

  /** Cancels the deadline for good (until the next {@link start}). */
  cancel(): void {
    this.done = true;
    this.owner = undefined;
    this.timer.cancel();
  }

  private arm(): void {
    this.startedAt = this.clock.now();
    this.timer.arm(Math.max(0, this.remaining));
  }
}
