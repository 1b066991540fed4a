import type { Clock } from '../spi/clock.js';
import type { Logger } from '../spi/logger.js';
import type { PowerCallOptions, PowerDriver, PowerOperation, PowerTarget } from '../spi/power-driver.js';
import { AuthError, TimeoutError } from '../errors/power-errors.js';
import { abortReason } from '../util/delay.js';
import { runWithDeadline } from './deadline.js';
import { worthFallback } from './op-helpers.js';
import { redact } from './redact.js';

/** One driver call of an operation. */
export type DriverCall<T> = (driver: PowerDriver, target: PowerTarget, call: PowerCallOptions) => Promise<T>;

/** What one run of a driver chain needs. */
export interface DriverChainContext {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly host: string;
  readonly op: PowerOperation;
  /** Deadline of each driver attempt. */
  readonly timeoutMs: number;
  /** The caller's (and the service's) cancellation. */
  readonly signal: AbortSignal;
  /** Filled with one promise per attempt that settles when the driver let go of the BMC. */
  readonly holds: Promise<void>[];
  /** Told the name of each driver as its attempt starts (the last one told answered, or failed last). */
  readonly onAttempt?: (driver: string) => void;
}

/** Longest wait for a driver that ignores its signal before the host queue moves on. */
export const MAX_SETTLE_GRACE_MS = 5_000;

/**
 * Tries the drivers of a host in order (docs/behaviour.md#power fallback chain), each attempt bounded by
 * its own deadline. Unreachable, timeout, driver, unsupported and auth failures move on
 * to the next driver; when all fail, an `AuthError` is reported if any driver saw one,
 * else the last error. Any other error (protocol, config, cancellation) stops the chain.
 */
export async function runDriverChain<T>(
  ctx: DriverChainContext,
  chain: readonly PowerDriver[],
  target: PowerTarget,
  call: DriverCall<T>,
): Promise<T> {
  const { host, op, timeoutMs, signal, holds } = ctx;
  let authError: unknown;
  let lastError: unknown;
  for (const driver of chain) {
    if (signal.aborted) throw abortReason(signal);
    // the previous driver may ignore its signal: wait (bounded) until it let go of the BMC
    await Promise.all(holds);
    ctx.onAttempt?.(driver.name);
    const run = runWithDeadline(ctx.clock, timeoutMs, { op, host }, signal, (s) =>
      call(driver, target, { signal: s, timeoutMs }),
    );
    try {
      return await run.result;
    } catch (err) {
      if (signal.aborted && !(err instanceof TimeoutError)) throw err;
      if (!worthFallback(err)) throw err;
      if (err instanceof AuthError) authError ??= err;
      lastError = err;
      ctx.logger.debug('power driver failed', {
        host,
        op,
        driver: driver.name,
        error: redact(String((err as Error).message), [target.password]),
      });
    } finally {
      // the grace for a driver that ignores cancellation starts when its result is in
      holds.push(settleWithin(ctx, run.settled, driver.name));
    }
  }
  throw authError ?? lastError;
}

function settleWithin(ctx: DriverChainContext, settled: Promise<void>, driver: string): Promise<void> {
  let timer: unknown;
  const grace = new Promise<void>((resolve) => {
    timer = ctx.clock.setTimeout(
      () => {
        ctx.logger.warn('power driver ignored cancellation; releasing the host queue', { host: ctx.host, driver });
        resolve();
      },
      Math.min(ctx.timeoutMs, MAX_SETTLE_GRACE_MS),
    );
  });
  return Promise.race([settled.then(() => ctx.clock.clearTimeout(timer)), grace]);
}
