import { AbortedError, LeaseLostError } from '../errors/engine-errors.js';
import { abortReason } from '../util/delay.js';
import type { PowerControl } from '../spi/ha-provider.js';
import type { ChassisCommand, ChassisPower } from '../spi/power-driver.js';
import type { Clock } from '../spi/clock.js';
import { delay } from '../util/delay.js';
import type { StateStore } from '../spi/state-store.js';
import type { JobControl } from '../scheduler/work-scheduler.js';
import type { BudgetLimits, FenceBudget } from './fence-budget.js';
import type { PowerBackend } from './power-backend.js';
import { heldUntilAborted } from './observe-only.js';

/** Everything one action's power control needs. */
export interface PowerControlOptions {
  readonly host: string;
  readonly resource: string;
  readonly partition: string;
  readonly episode?: number;
  readonly backend: PowerBackend;
  readonly budget: FenceBudget;
  readonly limits: BudgetLimits;
  readonly store: StateStore;
  readonly job: JobControl;
  readonly timeoutMs: number;
  readonly clock: Clock;
  /**
   * A status read returned OFF: the engine's own proof (docs/behaviour.md#resource-states); `seq` is the read's
   * dispatch number.
   */
  readonly onOffRead: (seq: number | undefined) => Promise<void>;
  /** Our own command will move power to `to`: the sync daemon's sighting of it is not news. */
  readonly expectOwn: (to: 'ON' | 'OFF') => void;
  /** The stop command passed every gate: its intent is recorded before it is sent. */
  readonly stopSending: () => Promise<void>;
  /** The stop command left the host's queue for the controller (its dispatch number). */
  readonly stopDispatched: (seq: number) => void;
  /** The power-on is about to be sent. */
  readonly onSending: () => void;
  /** Our own power-on was acknowledged. */
  readonly onPoweredOn: () => Promise<void>;
  /** Why no stop command may be sent now (checked before and after the budget), or undefined. */
  readonly mayStop: () => string | undefined;
  /** Runs right before every stop command; rejects to stop it (a host healthy again). */
  readonly beforeStop?: () => Promise<void>;
  /**
   * Several servers (docs/behaviour.md#several-servers): checked right before every command is sent; a reason means
   * the partition's lease is gone and nothing is sent ({@link LeaseLostError}).
   */
  readonly mayCommand?: () => string | undefined;
  /**
   * Why our power-on may not be sent now (docs/behaviour.md#persistence: `on` only after the verified OFF and its
   * release have committed), or undefined.
   */
  readonly mayPowerOn?: () => string | undefined;
  /** Observe-only (docs/observe-only.md): whether commands of this resource are withheld now (checked per command). */
  readonly observeOnly?: () => boolean;
  /** Observe-only: the in-memory fence budget would-be stop commands are counted in (never the store's). */
  readonly observedBudget?: FenceBudget;
  /** Observe-only: this action's command is decided while observing (it will not be sent). */
  readonly observing?: () => void;
  /** Observe-only: `command` would be sent now; it is not (one `would.power.action` event). */
  readonly wouldSend?: (command: ChassisCommand) => Promise<void>;
}

/**
 * Power control handed to a provider during an action. Stop commands take a slot of
 * the fence budget (held, with the action's timeout paused, while it is exhausted) and
 * persist their intent before they are sent; every read of OFF is reported as proof.
 *
 * Observe-only (docs/observe-only.md): a command passes the same gates (health re-check, the budget — an in-memory one
 * — and the refusals), then is reported through `wouldSend` instead of being sent, and the action is held there like a
 * command the fence budget holds: no intent, no fence-log entry, no command.
 */
export function createPowerControl(o: PowerControlOptions): PowerControl {
  const request = () => ({ by: 'ha' as const, signal: o.job.signal, timeoutMs: o.timeoutMs });
  const refuseIfBarred = () => {
    // Late work of an action that timed out or was cancelled takes no budget and leaves no intent.
    if (o.job.signal.aborted) throw abortReason(o.job.signal);
    const why = o.mayStop();
    if (why) throw new AbortedError(`stop command not sent: ${why}`);
  };
  const leaseGate = () => {
    const lost = o.mayCommand?.();
    if (lost !== undefined) throw new LeaseLostError(o.partition, `${lost}: command not sent`);
  };
  const observing = () => o.observeOnly?.() === true;
  /** Reports `command` as would-be and holds the action until something ends it (never sends it). */
  const withhold = async (command: ChassisCommand): Promise<never> => {
    o.observing?.();
    await o.wouldSend?.(command);
    return o.job.hold(heldUntilAborted(o.job.signal));
  };
  const stop = async (command: ChassisCommand): Promise<void> => {
    await o.beforeStop?.();
    refuseIfBarred();
    if (observing()) {
      o.observing?.();
      if (o.observedBudget)
        await o.job.hold(
          o.observedBudget.take(
            { partition: o.partition, resource: o.resource, command, episode: o.episode },
            o.limits,
            o.job.signal,
          ),
        );
      refuseIfBarred();
      return withhold(command);
    }
    await o.job.hold(
      o.budget.take(
        { partition: o.partition, resource: o.resource, command, episode: o.episode },
        o.limits,
        o.job.signal,
      ),
    );
    refuseIfBarred(); // the world may have changed while the command was held
    // Switched to observe-only while the budget held it: its slot stays taken, the command is not sent.
    if (observing()) return withhold(command);
    // The intent stays until the host is powered on again or the action ends, so an
    // action cancelled between off and on is reconciled by a status read (docs/behaviour.md#partitions).
    await o.store.putIntent({ resource: o.resource, command, at: o.clock.now() });
    await o.stopSending();
    leaseGate();
    await o.backend.command(o.host, command, { ...request(), onDispatch: o.stopDispatched, admit: o.mayCommand });
  };
  return {
    status: async (): Promise<ChassisPower> => {
      let seq: number | undefined;
      const state = await o.backend.status(o.host, { ...request(), onDispatch: (s) => (seq = s) });
      if (state === 'OFF' && !o.job.signal.aborted) await o.onOffRead(seq);
      return state;
    },
    on: async () => {
      const unreleased = o.mayPowerOn?.();
      if (unreleased !== undefined) throw new AbortedError(`power-on not sent: ${unreleased}`);
      if (o.job.signal.aborted) throw abortReason(o.job.signal);
      if (observing()) return withhold('on');
      o.expectOwn('ON');
      leaseGate();
      o.onSending();
      await o.backend.command(o.host, 'on', { ...request(), admit: o.mayCommand });
      await o.store.clearIntent(o.resource);
      await o.onPoweredOn();
      await readBackOn(o, request);
    },
    off: () => stop('off'),
    cycle: () => stop('cycle'),
    reset: () => stop('reset'),
  };
}

/** Read-backs after our own power-on, and the pause between two of them. */
const READ_BACK_TRIES = 3;
const READ_BACK_PAUSE_MS = 1_000;

/**
 * Reads power back after our own `on`, so the power state providers judge eligibility by
 * is fresh (a failed read-back must not leave a stale OFF behind: docs/behaviour.md#resource-states, own actions are
 * not news). A few tries; a controller that never answers is the power FSM's business.
 */
async function readBackOn(
  o: PowerControlOptions,
  request: () => { by: 'ha'; signal: AbortSignal; timeoutMs: number },
): Promise<void> {
  for (let i = 0; i < READ_BACK_TRIES && !o.job.signal.aborted; i++) {
    const state = await o.backend.status(o.host, request()).catch(() => undefined);
    if (state === 'ON') return;
    await delay(o.clock, READ_BACK_PAUSE_MS, o.job.signal).catch(() => undefined);
  }
}
