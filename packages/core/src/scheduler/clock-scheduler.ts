import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';
import type { Clock, TimerHandle } from '../spi/clock.js';

/**
 * An RxJS scheduler driven by a hafence {@link Clock}, so `timer`, `interval`,
 * `delay` and `timeout` run in virtual time under the testkit's `TestClock`.
 *
 * @example
 * timer(10_000, clockScheduler(clock)).subscribe(() => ...);
 */
export function clockScheduler(clock: Clock): SchedulerLike {
  return {
    now: () => clock.now(),
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
      let handle: TimerHandle;
      const action = new Subscription(() => clock.clearTimeout(handle)) as Subscription & SchedulerAction<T>;
      const arm = (st: T | undefined, ms: number) => {
        clock.clearTimeout(handle);
        handle = clock.setTimeout(() => {
          if (!action.closed) work.call(action, st);
        }, ms);
      };
      action.schedule = (st?: T, ms = 0) => {
        arm(st, ms);
        return action;
      };
      arm(state, delay);
      return action;
    },
  };
}
