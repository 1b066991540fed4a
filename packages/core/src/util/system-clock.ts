import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../spi/clock.js';

/**
 * The real clock, the default everywhere outside tests. `now()` is monotonic — the process's
 * start time on the wall clock plus the monotonic time since — so a step of the wall clock
 * (NTP, `date -s`) neither stretches nor shortens a deadline, a lease or a window, and the
 * values still read as whole epoch milliseconds (persisted deadlines stay meaningful across
 * a restart). Timers are Node's, which run on the monotonic clock too.
 */
export const systemClock: Clock = {
  now: () => Math.floor(performance.timeOrigin + performance.now()),
  setTimeout: (fn: () => void, ms: number): TimerHandle => setTimeout(fn, ms),
  clearTimeout: (handle: TimerHandle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  defer: (fn: () => void) => {
    setImmediate(fn);
  },
};
