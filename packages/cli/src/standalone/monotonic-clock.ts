import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '@hafence/core';

/**
 * A monotonic {@link Clock} (ms since this process started): the clock `hafence serve` measures its partition
 * leases on (SPEC §7), so a step of the wall clock (NTP, `date -s`) neither stretches a holder's lease nor
 * shortens a challenger's wait. Timers are Node's, which already run on the monotonic clock.
 */
export const monotonicClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn: () => void, ms: number): TimerHandle => setTimeout(fn, ms),
  clearTimeout: (handle: TimerHandle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
