import { AuthError, TimeoutError, UnreachableError } from '../errors/power-errors.js';
import type { Clock } from '../spi/clock.js';
import type { FenceResult, ProviderContext, RecoverResult } from '../spi/ha-provider.js';
import type { ChassisPower } from '../spi/power-driver.js';
import { delay } from '../util/delay.js';

/** Default interval between status reads while verifying OFF (1 s). */
export const DEFAULT_POWER_POLL_MS = 1_000;

/** The `powerOffVerifyTimeout` used when the context's settings carry none (ms). */
const DEFAULT_OFF_VERIFY_MS = 20_000;

/**
 * Polls `ctx.power.status()` every `pollMs` until it reads OFF, for at most the resource's
 * `powerOffVerifyTimeout` setting (default 20 s) on `clock`.
 *
 * @param ctx - The provider context of the call; it must carry `power`. Its `signal`
 *   aborts the wait between reads.
 * @param clock - The clock the wait runs on (the engine's clock: virtual in tests).
 * @param pollMs - Interval between two status reads, in ms.
 * @returns `true` once a read answered OFF; `false` when the time ran out — a timeout
 *   is never success.
 * @throws The power control's errors (e.g. `UnreachableError`) and `AbortedError` as they come.
 */
export async function pollUntilOff(ctx: ProviderContext, clock: Clock, pollMs: number): Promise<boolean> {
  const limit = clock.now() + Number(ctx.settings.powerOffVerifyTimeout ?? DEFAULT_OFF_VERIFY_MS);
  for (;;) {
    if ((await ctx.power!.status()) === 'OFF') return true;
    if (clock.now() >= limit) return false;
    await delay(clock, Math.min(pollMs, Math.max(1, limit - clock.now())), ctx.signal);
  }
}

/**
 * The safe power recovery every provider should use from `recover()`: read power and
 * require ON, then off → verify OFF by polling ({@link pollUntilOff}) → on. A bare power
 * cycle or reset is never used: its acknowledgement is no proof that the host was ever OFF.
 *
 * @param ctx - The provider context of the recovery; without `power` the recovery fails.
 * @param clock - The clock the OFF verification runs on.
 * @param pollMs - Interval between status reads while verifying OFF (e.g. {@link DEFAULT_POWER_POLL_MS}).
 * @returns `ok: true` only after OFF was read back and on was sent; otherwise `ok: false`
 *   with the reason (no power control, not ON before, OFF not seen in time).
 * @throws The error of a failed step (a failed step is a failed attempt; the engine retries).
 */
export async function recoverByPower(ctx: ProviderContext, clock: Clock, pollMs: number): Promise<RecoverResult> {
  const power = ctx.power;
  if (!power) return { ok: false, reason: 'no power control for this host' };
  const before = await power.status();
  if (before !== 'ON') return { ok: false, reason: `power read ${before} before recovery (must be ON)` };
  await power.off();
  if (!(await pollUntilOff(ctx, clock, pollMs)))
    return { ok: false, reason: 'power did not read OFF within powerOffVerifyTimeout' };
  await power.on();
  return { ok: true, reason: 'power off, verified OFF, on' };
}

/**
 * The safe power fence every provider should use from `fence()`: read status first (already
 * OFF is success), else off and poll until OFF ({@link pollUntilOff}).
 *
 * @param ctx - The provider context of the fence; without `power` the answer is `unreachable`.
 * @param clock - The clock the OFF verification runs on.
 * @param pollMs - Interval between status reads while verifying OFF.
 * @returns `off` only when OFF was read back; `failed` when OFF was not seen in time;
 *   `unreachable` when the power controller could not be reached, timed out or refused the
 *   credentials (the engine then turns to the self-fence lease).
 * @throws `AbortedError` when `ctx.signal` aborted, and any other error of the power control.
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
    if (err instanceof AuthError)
      return { outcome: 'unreachable', reason: `controller refused the credentials: ${err.message}` };
    if (err instanceof UnreachableError || err instanceof TimeoutError)
      return { outcome: 'unreachable', reason: `controller unreachable: ${err.message}` };
    throw err;
  }
}

/** What {@link finishOwnRecovery} found and did. */
export type ResumedRecoverResult = RecoverResult & {
  /** The power state read before anything was sent. */
  readonly read?: ChassisPower;
};

/**
 * The rest of a recovery of ours that a restart or takeover cut between its stop and a
 * confirmed power-on: reads power and, when it is OFF (our own stop's doing), powers the
 * host on. Any other read ends the attempt unsuccessfully with what was read. The engine
 * runs it itself; providers never need to.
 */
export async function finishOwnRecovery(ctx: ProviderContext): Promise<ResumedRecoverResult> {
  const power = ctx.power;
  if (!power) return { ok: false, reason: 'no power control for this host' };
  const read = await power.status();
  if (read !== 'OFF') return { ok: false, reason: `power read ${read} (not our OFF)`, read };
  await power.on();
  return { ok: true, reason: 'resumed: power read OFF after our own stop, on', read };
}
