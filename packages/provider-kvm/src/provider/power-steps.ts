import {
  AuthError, delay, TimeoutError, UnreachableError,
  type Clock, type FenceResult, type ProviderContext, type RecoverResult,
} from '@hafence/core';

/** Default interval between status reads while verifying OFF. */
export const DEFAULT_POWER_POLL_MS = 1_000;

/** Polls status until it reads OFF within `powerOffVerifyTimeout`; a timeout is `false`, never success. */
export async function pollUntilOff(ctx: ProviderContext, clock: Clock, pollMs: number): Promise<boolean> {
  const limit = clock.now() + ctx.settings.powerOffVerifyTimeout;
  for (;;) {
    if ((await ctx.power!.status()) === 'OFF') return true;
    if (clock.now() >= limit) return false;
    await delay(clock, Math.min(pollMs, Math.max(1, limit - clock.now())), ctx.signal);
  }
}

/**
 * Recovery (SPEC §5.1): refresh power, verify ON, then off → verify OFF by polling → on.
 * A bare power cycle is not used: its acknowledgement is no proof of OFF. Errors of a
 * step propagate: a failed step is a failed attempt.
 */
export async function recoverByPower(ctx: ProviderContext, clock: Clock, pollMs: number): Promise<RecoverResult> {
  const power = ctx.power;
  if (!power) return { ok: false, reason: 'no power control for this host' };
  const before = await power.status();
  if (before !== 'ON') return { ok: false, reason: `power read ${before} before recovery (must be ON)` };
  await power.off();
  if (!(await pollUntilOff(ctx, clock, pollMs))) return { ok: false, reason: 'power did not read OFF within powerOffVerifyTimeout' };
  await power.on();
  return { ok: true, reason: 'power off, verified OFF, on' };
}

/**
 * Fence (SPEC §5.1): refresh status first (already OFF is success), else off and poll
 * until OFF. A controller that cannot be reached answers `unreachable`, which sends the
 * engine to the self-fence lease.
 */
export async function fenceByPower(ctx: ProviderContext, clock: Clock, pollMs: number): Promise<FenceResult> {
  const power = ctx.power;
  if (!power) return { outcome: 'unreachable', reason: 'no power control for this host' };
  try {
    if ((await power.status()) === 'OFF') return { outcome: 'off', reason: 'already OFF' };
    await power.off();
    return (await pollUntilOff(ctx, clock, pollMs))
      ? { outcome: 'off', reason: 'power off, verified OFF' }
      : { outcome: 'failed', reason: 'power did not read OFF within powerOffVerifyTimeout' };
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    if (err instanceof UnreachableError || err instanceof TimeoutError || err instanceof AuthError) {
      return { outcome: 'unreachable', reason: `controller unreachable: ${err.message}` };
    }
    throw err;
  }
}
