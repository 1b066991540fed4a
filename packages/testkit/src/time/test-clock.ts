import type { Clock, ReusableTimer, TimerHandle } from '@hafence/core';
import { DueQueue } from '@hafence/core/internal';
import { TimerHeap } from './timer-heap.js';
import { TimerJitter, type TestClockJitterOptions } from './timer-jitter.js';

/** Options of {@link TestClock}. */
export interface TestClockOptions {
  /**
   * Fire each timer early or late by a seeded amount, as real timers do: a timer due at
   * `d` fires at `d + offset`, `offset` in [-earlyMs, +lateMs], never before it was set
   * and, like Node, never before an earlier timer of the same delay. Without it (the
   * default) every timer fires exactly at its deadline.
   */
  readonly jitter?: TestClockJitterOptions;
  /**
   * Give the clock {@link Clock.timer} as the system clock has it: reusable timers (the engine's health timers) share
   * one timer of this clock through a due-time heap, so they fire as in production (with the jitter, if any, on that
   * one timer). Without it (the default) the engine falls back to one `setTimeout` per check, and same-instant timers
   * fire in creation order across all of them.
   */
  readonly sharedTimers?: boolean;
}

/** Lets pending promise callbacks run (a macrotask turn drains every microtask). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Virtual time for tests and simulations: nothing moves until {@link TestClock.advance}.
 * Timers fire in (due time, creation order), and pending promise work settles before
 * each timer, so a run is deterministic.
 *
 * @example
 * const clock = new TestClock();
 * const service = await createHaService({ clock, ... });
 * await clock.advance(60 * 60_000); // one hour of HA time in milliseconds
 *
 * @example
 * // Timers fire up to 2 ms early and 50 ms late, the same way for seed 7: a callback may
 * // see `now()` before its deadline, as under Node.
 * const jittery = new TestClock(undefined, { jitter: { seed: 7 } });
 */
export class TestClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly heap = new TimerHeap();
  private readonly live = new Set<number>();
  private readonly timerJitter?: TimerJitter;
  /** Latest firing time per delay, so timers of one delay fire in the order set (as in Node). */
  private readonly lastFireByDelay = new Map<number, number>();
  /** Real work (sockets, files, child processes) in flight, see {@link TestClock.track}. */
  private readonly realWork = new Set<Promise<void>>();

  /** Reusable timers on one timer of this clock; only with `sharedTimers` (see {@link TestClockOptions}). */
  readonly timer?: (fn: () => void) => ReusableTimer;

  /** Starts virtual time at `start` (ms since the epoch); `options.jitter` makes timers fire early and late. */
  constructor(start = Date.UTC(2026, 0, 1), options: TestClockOptions = {}) {
    this.current = start;
    if (options.jitter) this.timerJitter = new TimerJitter(options.jitter);
    if (options.sharedTimers) {
      const queue = new DueQueue(this);
      this.timer = (fn) => queue.timer(fn);
    }
  }

  /** The jitter in force (seed, earlyMs, lateMs), or undefined when timers fire on time. */
  get jitter(): Required<TestClockJitterOptions> | undefined {
    const j = this.timerJitter;
    return j && { seed: j.seed, earlyMs: j.earlyMs, lateMs: j.lateMs };
  }

  /** Current virtual time. */
  now(): number {
    return this.current;
  }

  /** Schedules `fn` after `ms` of virtual time (give or take the jitter, if any). */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.heap.push({ id, due: this.fireAt(Math.max(0, ms)), seq: id, fn });
    this.live.add(id);
    return id;
  }

  /**
   * Runs `fn` on the next turn: a timer due now, never jittered, fired after every timer already due now (in creation
   * order) and after the promise work in hand, before virtual time moves on.
   */
  defer(fn: () => void): void {
    const id = ++this.seq;
    this.heap.push({ id, due: this.current, seq: id, fn });
    this.live.add(id);
  }

  /** Cancels a pending timer. */
  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number') this.live.delete(handle);
  }

  /**
   * Marks real work — a socket exchange, a file read, a child process — as in flight until
   * `work` settles, and returns it. While any tracked work is in flight, `advance` and
   * `advanceTo` do not jump: virtual time follows real time (1:1) up to the next timer,
   * so a provider's real I/O is not starved by a long `advance` and its virtual timeouts
   * still fire if the I/O really takes that long. With nothing tracked, time jumps as
   * before (the default; untracked work is invisible to the clock).
   *
   * @example
   * // in a provider under test, or a port wrapper:
   * const reply = await clock.track(agent.request(host, signal));
   */
  track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.realWork.add(settled);
    void settled.then(() => this.realWork.delete(settled));
    return work;
  }

  /** Tracked real work in flight ({@link TestClock.track}). */
  get realWorkInFlight(): number {
    return this.realWork.size;
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.live.size;
  }

  /** Moves virtual time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.current + ms);
  }

  /**
   * Moves virtual time to `target`, firing in order every timer whose firing time is at
   * most `target`; each runs with `now()` at its firing time (never going backwards).
   */
  async advanceTo(target: number): Promise<void> {
    await flushMicrotasks();
    for (;;) {
      const next = this.heap.peek();
      if (this.realWork.size > 0 && this.current < Math.min(next?.due ?? target, target)) {
        await this.followRealTime(Math.min(next?.due ?? target, target));
        continue; // the work may have set an earlier timer
      }
      if (!next || next.due > target) break;
      this.heap.pop();
      if (!this.live.delete(next.id)) continue;
      this.current = Math.max(this.current, next.due);
      next.fn();
      await flushMicrotasks();
    }
    this.current = Math.max(this.current, target);
    await flushMicrotasks();
  }

  /**
   * Real work is in flight: lets up to 50 real ms pass (less if the work settles first)
   * and moves virtual time by as much, never past `horizon`.
   */
  private async followRealTime(horizon: number): Promise<void> {
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Real time on purpose: this is the one place the test clock waits for the world.
    const tick = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(50, horizon - this.current))));
    await Promise.race([tick, ...this.realWork]);
    clearTimeout(timer);
    this.current = Math.min(horizon, this.current + Math.max(1, Math.round(performance.now() - started)));
    await flushMicrotasks();
  }

  /** When a timer set now with `delay` fires: its deadline, or the deadline moved by the jitter. */
  private fireAt(delay: number): number {
    const deadline = this.current + delay;
    if (!this.timerJitter) return deadline;
    const fifo = this.lastFireByDelay.get(delay) ?? -Infinity;
    const at = Math.max(this.current, fifo, deadline + this.timerJitter.offset());
    if (this.lastFireByDelay.size > 256) {
      for (const [d, t] of this.lastFireByDelay) if (t <= this.current) this.lastFireByDelay.delete(d);
    }
    this.lastFireByDelay.set(delay, at);
    return at;
  }

  /** Fires timers until none is left or `limitMs` of virtual time has passed. */
  async runUntilIdle(limitMs = 24 * 3_600_000): Promise<void> {
    const stop = this.current + limitMs;
    for (;;) {
      await flushMicrotasks();
      let next = this.heap.peek();
      while (next && !this.live.has(next.id)) {
        this.heap.pop();
        next = this.heap.peek();
      }
      if (!next || next.due > stop) return;
      await this.advanceTo(next.due);
    }
  }
}
