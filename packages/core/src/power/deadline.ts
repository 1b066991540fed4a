import type { Clock } from '../spi/clock.js';
import { TimeoutError } from '../errors/power-errors.js';
import { abortReason } from '../util/delay.js';

/** What {@link runWithDeadline} reports back besides the result. */
export interface DeadlineRun<T> {
  /** Settles with the work's result, or rejects at the deadline or on the caller's abort. */
  readonly result: Promise<T>;
  /** Settles when the work itself has stopped (even if it ignored the signal). */
  readonly settled: Promise<void>;
}

/**
 * Runs `work` with an AbortSignal that fires after `ms` on `clock` (reason: a
 * {@link TimeoutError}) or when `parent` aborts. The result rejects as soon as the
 * signal fires, even if the work ignores it (docs/behaviour.md#power: a timed-out operation is
 * cancelled for real, and the caller is not held hostage by a stuck driver).
 */
export function runWithDeadline<T>(
  clock: Clock,
  ms: number,
  what: { op: string; host: string },
  parent: AbortSignal | undefined,
  work: (signal: AbortSignal) => Promise<T>,
): DeadlineRun<T> {
  const ctl = new AbortController();
  const onParentAbort = () => ctl.abort(parent ? abortReason(parent) : undefined);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  const timer = clock.setTimeout(() => ctl.abort(new TimeoutError(what.op, ms, what.host)), ms);
  const cleanup = () => {
    clock.clearTimeout(timer);
    parent?.removeEventListener('abort', onParentAbort);
  };
  let inner: Promise<T>;
  try {
    inner = ctl.signal.aborted ? Promise.reject(abortReason(ctl.signal)) : work(ctl.signal);
  } catch (err) {
    inner = Promise.reject(err);
  }
  const settled = inner
    .then(
      () => undefined,
      () => undefined,
    )
    .finally(cleanup);
  const result = new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(normalise(abortReason(ctl.signal), what, ms));
    if (ctl.signal.aborted) onAbort();
    ctl.signal.addEventListener('abort', onAbort, { once: true });
    inner.then(
      (v) => {
        ctl.signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        ctl.signal.removeEventListener('abort', onAbort);
        reject(ctl.signal.aborted ? normalise(abortReason(ctl.signal), what, ms) : e);
      },
    );
  });
  return { result, settled };
}

// A DOMException('TimeoutError') from AbortSignal.timeout() becomes our typed error.
function normalise(err: Error, what: { op: string; host: string }, ms: number): Error {
  if (err.name === 'TimeoutError' && !(err instanceof TimeoutError))
    return new TimeoutError(what.op, ms, what.host, { cause: err });
  return err;
}
