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

/** The longest delay of one Node timer (2^31 - 1 ms): Node runs a longer one after 1 ms. */
const MAX_NODE_DELAY = 0x7fffffff;

/** A timer longer than one Node timer holds: a chain of them, each for at most the rest. */
class LongTimeout {
  handle: ReturnType<typeof setTimeout>;

  constructor(
    private readonly fn: () => void,
    private readonly due: number,
  ) {
    this.handle = setTimeout(this.step, MAX_NODE_DELAY);
  }

  private readonly step = (): void => {
    const left = this.due - now();
    if (left <= 0) this.fn();
    else this.handle = setTimeout(this.step, Math.min(MAX_NODE_DELAY, left));
  };
}

function nodeSetTimeout(fn: () => void, ms: number): TimerHandle {
  return ms > MAX_NODE_DELAY ? new LongTimeout(fn, now() + ms) : setTimeout(fn, ms);
}

function nodeClearTimeout(handle: TimerHandle): void {
  clearTimeout(handle instanceof LongTimeout ? handle.handle : (handle as ReturnType<typeof setTimeout>));
}

const shared = new DueQueue({ now, setTimeout: nodeSetTimeout, clearTimeout: nodeClearTimeout });
