/** Opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

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
}
