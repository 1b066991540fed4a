import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../spi/clock.js';
import { DueQueue } from './due-queue.js';

/**
 * The real clock, the default everywhere outside tests. `now()` is monotonic — the process's
 * start time on the wall clock plus the monotonic time since — so a step of the wall clock
 * (NTP, `date -s`) neither stretches nor shortens a deadline, a lease or a window, and the
 * values still read as whole epoch milliseconds (persisted deadlines stay meaningful across
 * a restart). Timers are Node's, which run on the monotonic clock too; its reusable timers ({@link Clock.timer}) share
 * one of them through a due-time heap.
 */
export const systemClock: Clock = {
  now,
  setTimeout: nodeSetTimeout,
  clearTimeout: nodeClearTimeout,
  defer: (fn: () => void) => {
    setImmediate(fn);
  },
  timer: (fn: () => void) => shared.timer(fn),
};

function now(): number {
  return Math.floor(performance.timeOrigin + performance.now());
}

function nodeSetTimeout(fn: () => void, ms: number): TimerHandle {
  return setTimeout(fn, ms);
}

function nodeClearTimeout(handle: TimerHandle): void {
  clearTimeout(handle as ReturnType<typeof setTimeout>);
}

const shared = new DueQueue({ now, setTimeout: nodeSetTimeout, clearTimeout: nodeClearTimeout });
