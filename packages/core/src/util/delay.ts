import type { Clock } from '../spi/clock.js';
import { reusableTimer } from './due-queue.js';
import { AbortedError } from '../errors/engine-errors.js';

/** The reason carried by an aborted signal, as an error. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new AbortedError(String(reason ?? 'aborted'));
}

/** Waits `ms` on `clock`; rejects with the signal's reason as soon as it aborts. */
export function delay(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(abortReason(signal!));
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Races a promise against a signal: rejects with the signal's reason when it aborts first
 * (or was aborted already). `promise` always gets a handler, whichever side wins: when the
 * signal wins, a later rejection of `promise` is dropped on purpose (the caller already
 * has the abort reason) instead of becoming a process-level unhandled rejection.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `work` with an AbortSignal that aborts after `ms` on `clock` (never
 * `AbortSignal.timeout`: real time); the timer is cleared as soon as `work` settles.
 */
export async function withClockSignal<T>(
  clock: Clock,
  ms: number,
  op: string,
  work: (signal: AbortSignal) => Promise<T>,
  options: ClockSignalOptions = {},
): Promise<T> {
  const controller = new AbortController();
  const reason = options.timeoutReason ?? (() => new AbortedError(`${op} exceeded ${ms} ms`));
  // On the system clock an entry of its shared timer queue, not a runtime timer per call.
  const timer = reusableTimer(clock, () => controller.abort(reason()));
  timer.arm(ms);
  const parent = options.parent;
  const onAbort = () => controller.abort(parent?.reason);
  parent?.addEventListener('abort', onAbort, { once: true });
  try {
    if (parent?.aborted) controller.abort(parent.reason);
    const running = work(controller.signal);
    return await (options.race ? raceAbort(running, controller.signal) : running);
  } finally {
    timer.cancel();
    parent?.removeEventListener('abort', onAbort);
  }
}

/** Options of {@link withClockSignal}. */
export interface ClockSignalOptions {
  /** Aborts the work too when it aborts (with its reason). */
  readonly parent?: AbortSignal;
  /** The reason the signal carries when the time is up (default an `AbortedError` naming `op`). */
  readonly timeoutReason?: () => Error;
  /** Settle at the abort even if `work` ignores its signal (the work's late result is dropped). */
  readonly race?: boolean;
}
