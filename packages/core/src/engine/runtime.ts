import type { HaSettings } from '../config/schema.js';
import type { HAProvider, ProviderContext } from '../spi/ha-provider.js';
import type { ResourceSpec } from '../spi/resource.js';
import type { Episode, ResourceRecord, ResourceTimers } from '../spi/state-store.js';
import type { ResourceState } from '../spi/states.js';
import type { ReusableTimer, TimerHandle } from '../spi/clock.js';
import type { ResourceEvent } from '../fsm/resource-fsm.js';
import type { StepInput } from './decide.js';
import type { JobControl, JobHandle, JobOutcome } from '../scheduler/work-scheduler.js';

/** The one action (activity check, recovery or fence) a resource may have in flight. */
export interface InFlight {
  readonly id: number;
  readonly kind: 'activity' | 'recover' | 'fence';
  /** The state the action started from; its result is dropped if the state moved on. */
  readonly state: ResourceState;
  /** Version the result must still find (our own writes during the action bump it). */
  version: number;
  /** A status read of OFF was seen during the action (proof for release). */
  offSeen: boolean;
  /**
   * Dispatch sequence number of the action's stop command once it left the host's queue
   * for the controller: a read dispatched after it may see our own OFF; one before it
   * cannot (docs/behaviour.md#resource-states: own actions are not news; #kvm-hosts: proof that needs no command).
   */
  stopSeq?: number;
  /** The action's power-on was sent. */
  onSent: boolean;
  /** The action's power-on was acknowledged: what remains (a read-back) cannot fail the recovery. */
  onAcked?: boolean;
  /**
   * A recovery of ours resumed after a restart or takeover, its stop already landed: an OFF
   * it reads is ours, and proof (docs/behaviour.md#kvm-hosts).
   */
  resumed?: boolean;
  /** Observe-only (docs/observe-only.md): the action's command was decided while observing and is not sent. */
  observing?: boolean;
  job?: JobHandle<unknown>;
}

/** In-memory companion of a resource's persisted record. */
export interface Runtime {
  spec: ResourceSpec;
  readonly key: string;
  readonly provider: HAProvider;
  record: ResourceRecord;
  settings: HaSettings;
  /** Latest health check passed (undefined before the first). */
  healthy?: boolean;
  eligible?: boolean;
  maintenance?: boolean;
  /** Counted as failing by the storm guard / self-doubt. */
  failing: boolean;
  /** The health timer, made once per resource and re-armed for each check. */
  healthTimer?: ReusableTimer;
  healthDue: number;
  healthRound: number;
  healthJob?: JobHandle<unknown>;
  /** The running check's due time, when its timer fired and when it started (one check at a time per resource). */
  checkDue: number;
  checkFiredAt: number;
  checkBegan: number;
  /** The health check's work and its end, made once per resource (not two closures per check). */
  healthWork?: (control: JobControl) => Promise<unknown>;
  healthDone?: (outcome: JobOutcome<unknown>, job: JobHandle<unknown>) => void;
  /** The provider context's `alert`, made once per resource. */
  alertFn?: ProviderContext['alert'];
  stateTimer?: TimerHandle;
  action?: InFlight;
  /** A recovery or fence held by startup grace or self-doubt retries at this time. */
  gateUntil?: number;
  /** Serialises every change to this resource. */
  chain: Promise<void>;
  /** A serial step is running (it owns the state's deadline until it ends). */
  stepping: boolean;
  removed: boolean;
}

/** Options of one FSM step: the step's bookkeeping (see {@link StepInput}) without its event and reason. */
export type ApplyOptions = Omit<StepInput, 'event' | 'reason'>;

/**
 * The steps the resource engine offers the code that acts for a resource (actions, power
 * rules): run after every earlier change, apply one FSM step, re-arm the state's timer.
 * Acting code depends on this, never on the engine itself.
 */
export interface ResourceSteps {
  /** Runs `fn` after every earlier change to this resource (one writer at a time). */
  serial(rt: Runtime, fn: () => Promise<void> | void): Promise<void>;
  /** One FSM step as a compare-and-set write; false when ignored or lost to another writer. */
  apply(rt: Runtime, event: ResourceEvent | null, reason: string, o?: ApplyOptions): Promise<boolean>;
  /** Arms the timer of the current state from the persisted deadlines. */
  armStateTimer(rt: Runtime): void;
}

/** A fresh record in state NONE. */
export function newRecord(spec: ResourceSpec, key: string, now: number): ResourceRecord {
  return {
    key,
    ref: spec.ref,
    partition: spec.partition,
    state: 'NONE',
    version: 0,
    since: now,
    nextEpisode: 1,
    releasedOutside: false,
    timers: {},
  };
}

/** A new failure episode. */
export function openEpisode(id: number, now: number): Episode {
  return {
    id,
    openedAt: now,
    released: false,
    checks: 0,
    activeResults: 0,
    inactiveStreak: 0,
    errorStreak: 0,
    recoverAttempts: 0,
    degradedAlerted: false,
  };
}

/** Next activity check delay: 10 s, 20 s, 40 s … capped (docs/behaviour.md#scheduling-and-guards). */
export function activityBackoff(settings: HaSettings, checks: number): number {
  const raw = settings.activityCheckInterval * 2 ** Math.min(checks, 30);
  return Math.min(raw, settings.maxActivityCheckInterval);
}

/** Timers that belong to a state once it is entered. */
export function timersOnEntry(
  state: ResourceState,
  episode: Episode | undefined,
  settings: HaSettings,
  now: number,
  quiet: boolean,
): ResourceTimers {
  switch (state) {
    case 'SUSPECT':
      return { activityAt: now + activityBackoff(settings, episode?.checks ?? 0) };
    case 'INITIALIZING':
      return { quietUntil: quiet ? now + settings.quietPeriod : now };
    case 'DEGRADED':
      return { recheckAt: now + settings.degradedRecheck };
    default:
      return {};
  }
}
