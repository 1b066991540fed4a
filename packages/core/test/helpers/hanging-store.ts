import { MemoryStateStore } from '@hafence/core';
import { flushMicrotasks } from '@hafence/testkit';

/** The store methods a {@link HangingStore} can hang or hold. */
const METHODS = [
  'listLeases',
  'acquireLease',
  'renewLease',
  'releaseLease',
  'saveResource',
  'saveResourceWithEvents',
  'loadResources',
  'listIntents',
  'putIntent',
  'deleteIntent',
  'listUndelivered',
  'markDelivered',
] as const;

/** A store call held by a {@link HangingStore}: answer it later, or make it fail. */
export interface HeldCall {
  readonly method: string;
  /** Runs the real call now and settles the held one with its result. */
  readonly answer: () => void;
  /** Makes the held call fail now. */
  readonly fail: (err: unknown) => void;
}

/** A memory store whose chosen methods can be made to never settle (a database that stopped answering). */
export class HangingStore extends MemoryStateStore {
  /** Methods whose calls never settle. */
  readonly hang = new Set<string>();
  /** Calls that were left hanging, by method. */
  readonly hung: string[] = [];
  /** Methods whose calls are held until the test answers or fails them ({@link HangingStore.heldCalls}). */
  readonly hold = new Set<string>();
  /** Calls held, in order. */
  readonly heldCalls: HeldCall[] = [];
  /** Every call made, by method, in order. */
  readonly calls: string[] = [];
  /** `close()` never settles. */
  hangClose = false;
  closed = 0;
  constructor() {
    super();
    for (const m of METHODS) {
      const self = this as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      const orig = self[m];
      if (typeof orig !== 'function') continue;
      self[m] = (...a: unknown[]) => {
        this.calls.push(m);
        if (this.hang.has(m)) {
          this.hung.push(m);
          return new Promise(() => undefined);
        }
        if (this.hold.has(m)) {
          return new Promise((resolve, reject) => {
            this.heldCalls.push({
              method: m,
              answer: () => void orig.apply(this, a).then(resolve, reject),
              fail: (err) => reject(err),
            });
          });
        }
        return orig.apply(this, a);
      };
    }
  }
  async close(): Promise<void> {
    this.closed++;
    if (this.hangClose) await new Promise(() => undefined);
  }
}

/** stop() on a TestClock must end without the clock moving (3 s of real time at most). */
export async function stopsWithoutClock(stop: () => Promise<void>): Promise<'ended' | 'hung'> {
  let done = false;
  const stopped = stop().then(() => (done = true));
  for (let i = 0; i < 200 && !done; i++) await flushMicrotasks();
  if (done) return 'ended';
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), 3_000)));
  const how = await Promise.race([stopped.then(() => 'ended' as const), hung]);
  clearTimeout(timer);
  return how;
}
