/** Opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/** A timer made once and armed many times: see {@link Clock.timer}. */
export interface ReusableTimer {
  /**
   * Arms the timer to run its function once, `ms` from now (`Infinity`: never; NaN or ≤ 0: now); an armed timer
   * moves to the new time.
   */
  arm(ms: number): void;
  /** Disarms it; harmless when it is not armed. */
  cancel(): void;
}

/**
 * The only source of time in hafence. Library code never calls `Date.now()` or
 * `setTimeout` directly, so tests can run hours of HA time in milliseconds.
 */
export interface Clock {
  /** Milliseconds since the epoch (virtual in tests). */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; unknown or fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
  /**
   * Runs `fn` once on the next turn of the event loop: after every callback and promise job already due now, before
   * time moves on (Node's `setImmediate`; a test clock: a timer due now, fired in order, never jittered). Optional:
   * callers fall back to `setTimeout(fn, 0)`. Not cancellable: `fn` checks whether it is still wanted.
   */
  defer?(fn: () => void): void;
  /**
   * A timer for `fn` that its owner keeps and re-arms (a resource's health timer): arming allocates nothing and many
   * such timers share one runtime timer. Same guarantees as {@link setTimeout}: never before its time, once per
   * arming, equal times in arming order. Optional: callers fall back to `setTimeout` and `clearTimeout`.
   */
  timer?(fn: () => void): ReusableTimer;
}
