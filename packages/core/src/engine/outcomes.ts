import type { HaSettings } from '../config/schema.js';
import type { ResourceEvent } from '../fsm/resource-fsm.js';
import type { JobOutcome } from '../scheduler/work-scheduler.js';
import type { FenceResult, HealthResult, LeaseStatus, RecoverResult, Verdict } from '../spi/ha-provider.js';
import type { ReleaseProof } from '../events/ha-event.js';
import type { Episode, ResourceRecord, ResourceTimers } from '../spi/state-store.js';
import type { ResourceState } from '../spi/states.js';

/** An FSM event with its reason: what a classified outcome asks the engine to apply. */
export interface EventStep {
  readonly event: ResourceEvent;
  readonly reason: string;
}

/** The event an operator maintenance flag means in `state`, if any. */
export function maintenanceEvent(state: ResourceState, maintenance: boolean): EventStep | undefined {
  if (maintenance && state !== 'INELIGIBLE') return { event: 'maintenance-start', reason: 'operator maintenance' };
  if (!maintenance && state === 'INELIGIBLE') return { event: 'maintenance-end', reason: 'maintenance ended' };
  return undefined;
}

/** The event an eligibility verdict means in `state` (outside maintenance), if any. */
export function eligibilityEvent(state: ResourceState, eligible: Verdict): EventStep | undefined {
  if (!eligible.ok) return { event: 'eligibility-lost', reason: eligible.reason ?? 'not eligible' };
  if (state === 'UNSUPPORTED') return { event: 'eligibility-regained', reason: eligible.reason ?? 'eligible again' };
  return undefined;
}

/** The event a health check's result means: a failure inside the quiet period after a recovery is quiet. */
export function healthEvent(record: ResourceRecord, health: HealthResult, now: number): EventStep {
  if (health.healthy) return { event: 'health-passed', reason: health.reason ?? 'health check passed' };
  const quiet = record.state === 'INITIALIZING' && (record.timers.quietUntil ?? 0) > now;
  return { event: quiet ? 'health-failed-quiet' : 'health-failed', reason: health.reason ?? 'health check failed' };
}

/** What a recovery's outcome asks of the engine. */
export type RecoverStep =
  | {
      readonly kind: 'apply';
      readonly event: ResourceEvent;
      readonly reason: string;
      readonly quiet?: boolean;
      readonly timers?: ResourceTimers;
    }
  /** The recovery ended after its own stop command: one status read says how the host was left. */
  | { readonly kind: 'finish-left-off'; readonly why: string; readonly onSent: boolean };

/**
 * Classifies a recovery's outcome (docs/behaviour.md#kvm-hosts): success (or a power-on
 * already acknowledged) enters a quiet INITIALIZING; after its own stop command a recovery
 * is never retried from scratch; otherwise it is retried after a delay until its attempts
 * are used up.
 */
export function recoverStep(
  outcome: JobOutcome<RecoverResult>,
  action: { readonly onAcked?: boolean; readonly onSent: boolean },
  episode: Episode | undefined,
  settings: HaSettings,
  now: number,
): RecoverStep {
  if (outcome.kind === 'ok' && outcome.value.ok)
    return {
      kind: 'apply',
      event: 'recover-succeeded',
      reason: outcome.value.reason ?? 'recovery steps done',
      quiet: true,
    };
  const reason =
    outcome.kind === 'ok'
      ? (outcome.value.reason ?? 'recovery failed')
      : outcome.kind === 'timeout'
        ? 'recovery timed out'
        : `recovery failed: ${errorText(outcome)}`;
  // off, verified OFF and on are done; only the read-back ran out of time.
  if (action.onAcked)
    return {
      kind: 'apply',
      event: 'recover-succeeded',
      reason: `${reason} after its power-on was acknowledged`,
      quiet: true,
    };
  // After its own verified OFF the next attempt would read our own OFF as a stranger's.
  if (episode?.ownOff)
    return { kind: 'finish-left-off', why: `${reason} after its own stop command`, onSent: action.onSent };
  const attempts = episode?.recoverAttempts ?? 0;
  if (attempts >= settings.maxRecoveryAttempts)
    return { kind: 'apply', event: 'recover-exhausted', reason: `${reason}; ${attempts} attempt(s) used` };
  return { kind: 'apply', event: 'recover-failed', reason, timers: { retryAt: now + settings.recoverRetryDelay } };
}

/** What a fence's outcome asks of the engine: FENCED with the release, or the lease route. */
export type FenceStep =
  | { readonly kind: 'fenced'; readonly reason: string }
  | { readonly kind: 'lease-route'; readonly why: string };

/** Classifies a fence's outcome: "off" is proof only with the engine's own status read of OFF. */
export function fenceStep(outcome: JobOutcome<FenceResult>, offSeen: boolean): FenceStep {
  if (outcome.kind === 'ok' && outcome.value.outcome === 'off' && offSeen)
    return { kind: 'fenced', reason: outcome.value.reason ?? 'power verified OFF' };
  const why =
    outcome.kind === 'ok'
      ? outcome.value.outcome === 'off'
        ? 'provider reported OFF without a status read of OFF (not proof)'
        : (outcome.value.reason ?? outcome.value.outcome)
      : outcome.kind === 'timeout'
        ? 'fence timed out'
        : `fence failed: ${errorText(outcome)}`;
  return { kind: 'lease-route', why };
}

/** What a read of the self-fence lease asks of the engine: an FSM event (or none) with its timers and proof. */
export interface LeaseStep {
  readonly event: ResourceEvent | null;
  readonly reason: string;
  readonly timers: ResourceTimers;
  readonly release?: ReleaseProof;
}

/**
 * Fencing by power failed: the self-fence lease is the remaining proof (docs/behaviour.md#kvm-hosts). An expired
 * lease fences with the release; a pending one close enough is waited for once (never sooner than a second); in
 * FENCING anything else fails (the wait is bounded, never an endless loop); in FAILED the lease is watched on.
 */
export function leaseStep(
  state: ResourceState,
  lease: LeaseStatus,
  why: string,
  recheck: boolean,
  settings: HaSettings,
  now: number,
): LeaseStep {
  if (lease.state === 'expired') {
    const reason = `${why}; self-fence lease expired: ${lease.evidence}`;
    return { event: 'fence-lease-expired', reason, release: 'lease', timers: { leaseAt: undefined } };
  }
  if (lease.state === 'pending' && !recheck && lease.deadline <= now + settings.leaseWaitMax) {
    const reason = `${why}; waiting for the self-fence lease`;
    return { event: null, reason, timers: { leaseAt: Math.max(lease.deadline, now + 1000) } };
  }
  if (state === 'FENCING') {
    const detail =
      lease.state === 'none' ? lease.reason : recheck ? 'lease not expired at its deadline' : 'lease deadline too far';
    return { event: 'fence-failed', reason: `${why}; ${detail}`, timers: { leaseAt: undefined } };
  }
  return { event: null, reason: 'lease not expired', timers: { leaseAt: now + settings.degradedRecheck } };
}

/** The text of a job's failure. */
export function errorText(outcome: JobOutcome<unknown>): string {
  return outcome.kind === 'error' ? String((outcome.error as Error)?.message ?? outcome.error) : outcome.kind;
}

/** What a status read says about a recovery that sent its stop but never confirmed its power-on. */
export interface LeftOffStep {
  /** The FSM event, or null for a bookkeeping write (the new attempt goes ahead). */
  readonly event: ResourceEvent | null;
  readonly reason: string;
  /** Our own OFF is over: clear the episode's `ownOff`. */
  readonly clearOwnOff: boolean;
  readonly quiet?: boolean;
  readonly timers?: ResourceTimers;
  readonly release?: ReleaseProof;
  /** Raise `left-off`: the host was left OFF. */
  readonly leftOff?: boolean;
}

/**
 * Classifies the one status read after a recovery of ours ended (or a new attempt starts)
 * between its stop command and a confirmed power-on (docs/behaviour.md#kvm-hosts): never
 * our own OFF read as a stranger's.
 * - ON before a new attempt: our earlier stop did not take, or the host is on again — go ahead.
 * - ON with our power-on sent: the power-on landed — a quiet INITIALIZING.
 * - ON without it: our stop did not take — an ordinary failed attempt (retried while attempts last).
 * - OFF: left OFF — the read is proof: release, alert, FENCED.
 * - Unreadable: fencing decides, by a read of OFF or the self-fence lease.
 */
export function leftOffStep(
  read: 'ON' | 'OFF' | 'UNKNOWN',
  why: string,
  c: { readonly onSent: boolean; readonly beforeAttempt: boolean; readonly attempts: number },
  settings: HaSettings,
  now: number,
): LeftOffStep {
  if (read === 'ON' && c.beforeAttempt) return { event: null, reason: `${why}; power read ON`, clearOwnOff: true };
  if (read === 'ON' && c.onSent) {
    return {
      event: 'recover-succeeded',
      reason: `${why}; power read ON: the power-on landed`,
      clearOwnOff: true,
      quiet: true,
    };
  }
  if (read === 'ON') {
    const exhausted = c.attempts >= settings.maxRecoveryAttempts;
    return {
      event: exhausted ? 'recover-exhausted' : 'recover-failed',
      reason: `${why}; power read ON: the stop did not take`,
      clearOwnOff: true,
      ...(exhausted ? {} : { timers: { retryAt: now + settings.recoverRetryDelay } }),
    };
  }
  if (read === 'OFF') {
    return {
      event: 'power-off-observed',
      reason: `left OFF: ${why}; power read OFF`,
      clearOwnOff: false,
      release: 'power-off',
      leftOff: true,
    };
  }
  return {
    event: 'recover-exhausted',
    reason: `${why}; power unreadable: fencing decides by a read of OFF or the lease`,
    clearOwnOff: false,
  };
}

/** What RECOVERING asks for when its work is due. */
export type RecoverStart =
  /** Every attempt of the episode is used up. */
  | { readonly kind: 'exhausted'; readonly reason: string }
  /** An earlier attempt of ours left the host OFF (power-on unconfirmed): read power first. */
  | { readonly kind: 'left-off-first'; readonly why: string }
  /** The retry delay has not passed: the state timer starts the attempt. */
  | { readonly kind: 'wait' }
  | { readonly kind: 'attempt' };

/** Decides what a due RECOVERING does next, from its record alone. */
export function recoverStart(record: ResourceRecord, settings: HaSettings, now: number): RecoverStart {
  const ep = record.episode;
  const attempts = ep?.recoverAttempts ?? 0;
  if (attempts >= settings.maxRecoveryAttempts) {
    return { kind: 'exhausted', reason: `${attempts} recovery attempt(s) used in this episode` };
  }
  if (ep?.ownOff) return { kind: 'left-off-first', why: 'an earlier recovery attempt sent it a stop command' };
  const retryAt = record.timers.retryAt;
  if (retryAt !== undefined && retryAt > now) return { kind: 'wait' };
  return { kind: 'attempt' };
}

/**
 * Until when startup grace or self-doubt hold recoveries and fences (docs/behaviour.md#scheduling-and-guards),
 * or undefined when nothing holds them: the grace runs from the service's start; self-doubt
 * looks again after one health interval.
 */
export function gateUntil(
  now: number,
  g: { readonly graceEnd: number; readonly selfDoubting: boolean },
  settings: HaSettings,
): number | undefined {
  if (now < g.graceEnd) return g.graceEnd;
  if (g.selfDoubting) return now + settings.healthCheckInterval;
  return undefined;
}
