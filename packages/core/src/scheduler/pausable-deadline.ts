import type { Clock, TimerHandle } from '../spi/clock.js';

/**
 * A deadline on the injected clock that can be paused and resumed — a stop command
 * held by the fence budget does not use up its action's timeout (docs/behaviour.md#scheduling-and-guards).
 */
export class PausableDeadline {
  private handle: TimerHandle | undefined;
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
    this.arm();
  }

  /** Stops the countdown until the matching {@link resume}. Nested pauses are counted. */
  pause(): void {
    if (this.done || this.pauses++ > 0) return;
    this.clock.clearTimeout(this.handle);
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
    this.clock.clearTimeout(this.handle);
  }

  private arm(): void {
    this.startedAt = this.clock.now();
    this.handle = this.clock.setTimeout(
      () => {
        if (this.done) return;
        this.done = true;
        this.onExpire();
      },
      Math.max(0, this.remaining),
    );
  }
}
