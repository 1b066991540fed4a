import type { Clock, TimerHandle } from '../spi/clock.js';

/** The real clock: wall time and Node timers. The default everywhere outside tests. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number): TimerHandle => setTimeout(fn, ms),
  clearTimeout: (handle: TimerHandle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
