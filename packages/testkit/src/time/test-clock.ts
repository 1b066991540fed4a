import type { Clock, TimerHandle } from '@hafence/core';
import { TimerHeap } from './timer-heap.js';

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
 */
export class TestClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly heap = new TimerHeap();
  private readonly live = new Set<number>();

  /** Starts virtual time at `start` (ms since the epoch). */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  /** Current virtual time. */
  now(): number {
    return this.current;
  }

  /** Schedules `fn` after `ms` of virtual time. */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.heap.push({ id, due: this.current + Math.max(0, ms), seq: id, fn });
    this.live.add(id);
    return id;
  }

  /** Cancels a pending timer. */
  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number') this.live.delete(handle);
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.live.size;
  }

  /** Moves virtual time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.current + ms);
  }

  /** Moves virtual time to `target`, firing due timers in order. */
  async advanceTo(target: number): Promise<void> {
    await flushMicrotasks();
    for (;;) {
      const next = this.heap.peek();
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
