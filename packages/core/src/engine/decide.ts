import type { HaSettings } from '../config/schema.js';
import type { ReleaseProof } from '../events/ha-event.js';
import { resourceTransition, type ResourceEvent } from '../fsm/resource-fsm.js';
import type { AlertCode, AlertLevel } from '../spi/alert.js';
import type { ActivityResult } from '../spi/ha-provider.js';
import type { Episode, ResourceRecord, ResourceTimers } from '../spi/state-store.js';
import type { ResourceState } from '../spi/states.js';
import { openEpisode, timersOnEntry } from './runtime.js';

/** What one engine step is asked to do: an FSM event (or none) and the bookkeeping that goes with it. */
export interface StepInput {
  /** The FSM event, or null for a write that only changes counters, timers or flags. */
  readonly event: ResourceEvent | null;
  /** Why: the transition's reason reads `<event>: <reason>`. */
  readonly reason: string;
  /** Counter changes, applied to the open episode before the transition's own bookkeeping. */
  readonly counters?: (episode: Episode) => Episode;
  /** Timers merged after the entered state's own. */
  readonly timers?: ResourceTimers;
  /** Proof for releasing the workloads (once per episode, or once outside one). */
  readonly release?: ReleaseProof;
  /** Enter INITIALIZING with a quiet period (after recovery or power-on). */
  readonly quiet?: boolean;
  /** The in-flight action this write belongs to. */
  readonly actionId?: number;
  /** Flags written as they are. */
  readonly patch?: Partial<Pick<ResourceRecord, 'releasedOutside' | 'operatorMaintenance'>>;
}

/** What the engine knows besides the record when it decides: time, settings, the in-flight action. */
export interface StepContext {
  readonly now: number;
  readonly settings: HaSettings;
  /** The action in flight, if any (its id and the state it started from). */
  readonly action?: { readonly id: number; readonly state: ResourceState };
}

/** An effect the engine carries out, in order, after the decided record was written. */
export type StepEffect =
  /** The in-flight action's result stays current: it expects the new version. */
  | { readonly kind: 'adopt-version' }
  /** Cancel the in-flight action (the state it belongs to was left). */
  | { readonly kind: 'cancel-action'; readonly reason: string }
  /** Re-evaluate whether the resource counts as failing (storm guard, self-doubt). */
  | { readonly kind: 'refresh-failing' }
  /** The partition's membership view changed (a state change). */
  | { readonly kind: 'membership-changed' }
  /** (Re)arm the state timer from the record's deadlines. */
  | { readonly kind: 'arm-state-timer' }
  /** Raise an alert about this resource. */
  | { readonly kind: 'alert'; readonly level: AlertLevel; readonly code: AlertCode; readonly message: string }
  /** Start the work of the state just entered (activity check, recovery, fence, …) as the next serial step. */
  | { readonly kind: 'start-work'; readonly state: ResourceState };

/** An event the step emits (the engine stamps nothing: these are complete). */
export type StepEvent =
  | {
      readonly t: number;
      readonly type: 'resource.transition';
      readonly resource: string;
      readonly resourceType: string;
      readonly from: ResourceState;
      readonly to: ResourceState;
      readonly reason: string;
    }
  | {
      readonly t: number;
      readonly type: 'workloads.released';
      readonly resource: string;
      readonly resourceType: string;
      readonly host: string;
      readonly proof: ReleaseProof;
      readonly episode?: number;
    };

/** The decision of one step: the record to write (compare-and-set on the old version), then events and effects. */
export interface StepDecision {
  readonly record: ResourceRecord;
  /** The state entered, or undefined when the state stays. */
  readonly target?: ResourceState;
  /** The proof the workloads are released with in this step, if they are. */
  readonly released?: ReleaseProof;
  readonly events: readonly StepEvent[];
  readonly effects: readonly StepEffect[];
}

/**
 * The resource engine's decision for one step, with no timers or I/O: the record after
 * `input` (episode opened or closed, counters, timers of the entered state, release
 * bookkeeping), the events to emit and the effects to carry out once the record is
 * written. Undefined when nothing is to be written (an event the table ignores, and no
 * bookkeeping). Total: it never throws for any record and event.
 */
export function decide(record: ResourceRecord, input: StepInput, ctx: StepContext): StepDecision | undefined {
  const o = input;
  const from = record.state;
  const target = o.event ? resourceTransition(from, o.event) : undefined;
  // The hot path: a routine passing health check writes (and allocates) nothing.
  if (target === undefined && !o.counters && !o.timers && !o.release && !o.patch) return undefined;
  const now = ctx.now;
  let episode = record.episode && o.counters ? o.counters(record.episode) : record.episode;
  let next: ResourceRecord = { ...record, ...o.patch, version: record.version + 1 };
  if (target !== undefined) {
    if (target === 'SUSPECT' && !episode) {
      // Workloads already released (power seen OFF, not on since) stay released: the
      // new episode must not release them a second time.
      episode = { ...openEpisode(next.nextEpisode, now), released: next.releasedOutside };
      next = { ...next, nextEpisode: next.nextEpisode + 1 };
    }
    if (target === 'AVAILABLE') {
      episode = undefined;
      next = { ...next, releasedOutside: false };
    }
    if (episode && (target === 'FENCED' || target === 'FAILED')) episode = { ...episode, outcome: target };
    if (episode && target === 'INITIALIZING') episode = { ...episode, outcome: undefined };
    next = {
      ...next,
      state: target,
      since: now,
      timers: timersOnEntry(target, episode, ctx.settings, now, o.quiet ?? false),
    };
  }
  if (o.timers) next = { ...next, timers: { ...next.timers, ...o.timers } };
  let released: ReleaseProof | undefined;
  if (o.release) {
    if (episode && !episode.released) {
      episode = { ...episode, released: true };
      released = o.release;
    } else if (!episode && !next.releasedOutside) {
      next = { ...next, releasedOutside: true };
      released = o.release;
    }
  }
  next = { ...next, episode };
  if (target === undefined && !o.counters && !o.timers && !released && !o.patch) return undefined;

  const { id, type } = record.ref;
  const events: StepEvent[] = [];
  if (target !== undefined) {
    const reason = `${o.event}: ${o.reason}`;
    events.push({ t: now, type: 'resource.transition', resource: id, resourceType: type, from, to: target, reason });
  }
  if (released) {
    const ep = next.episode === undefined ? {} : { episode: next.episode.id };
    events.push({
      t: now,
      type: 'workloads.released',
      resource: id,
      resourceType: type,
      host: id,
      proof: released,
      ...ep,
    });
  }
  const effects: StepEffect[] = [];
  // A write that does not change the state (a flag, a timer, our own release) keeps the
  // in-flight action current; only a state change makes its result stale.
  if (ctx.action && (o.actionId === ctx.action.id || target === undefined)) effects.push({ kind: 'adopt-version' });
  if (target === undefined) {
    effects.push({ kind: 'arm-state-timer' });
  } else {
    if (ctx.action && ctx.action.state !== target)
      effects.push({ kind: 'cancel-action', reason: `left ${ctx.action.state} for ${target}` });
    effects.push({ kind: 'refresh-failing' });
    if (from !== target) effects.push({ kind: 'membership-changed' });
    effects.push({ kind: 'arm-state-timer' });
    if (from !== target) effects.push(...entryAlerts(id, from, target, next.episode));
    effects.push({ kind: 'start-work', state: target });
  }
  return { record: next, target, released, events, effects };
}

/** docs/behaviour.md#resource-states: the transitions that carry an alert beyond their own event. */
export function entryAlerts(
  host: string,
  from: ResourceState,
  to: ResourceState,
  episode: Episode | undefined,
): Array<Extract<StepEffect, { kind: 'alert' }>> {
  if (to === 'FAILED') {
    const message = `${host} FAILED: automated recovery and fencing failed; operator needed`;
    return [{ kind: 'alert', level: 'critical', code: 'failed', message }];
  }
  if (to === 'FENCING' && from === 'RECOVERING') {
    const message = `${host}: recovery attempts exhausted; fencing`;
    return [{ kind: 'alert', level: 'warning', code: 'recovery-exhausted', message }];
  }
  if (to === 'FENCED' && from !== 'NONE' && episode) {
    const message = `${host} FENCED: its workloads are released; the framework will not power it on`;
    return [{ kind: 'alert', level: 'warning', code: 'fenced', message }];
  }
  return [];
}

/**
 * The deadline a state waits for, from its persisted timers and a gate (startup grace or
 * self-doubt holding a recovery or fence), or undefined when it waits for none.
 */
export function deadlineOf(state: ResourceState, t: ResourceTimers, gateAt?: number): number | undefined {
  switch (state) {
    case 'SUSPECT':
      return t.activityAt;
    case 'DEGRADED':
      return t.recheckAt;
    // A gated retry waits for the later of its own time and the gate (never a past deadline).
    case 'RECOVERING':
      return gateAt !== undefined ? Math.max(t.retryAt ?? gateAt, gateAt) : t.retryAt;
    case 'FENCING':
      return t.leaseAt === undefined ? gateAt : gateAt === undefined ? t.leaseAt : Math.min(t.leaseAt, gateAt);
    case 'FAILED':
      return t.leaseAt;
    default:
      return undefined;
  }
}

/** An activity check's verdict as an engine step: the FSM event, the episode's new counters, an alert first. */
export interface ActivityStep {
  readonly event: ResourceEvent;
  readonly reason: string;
  readonly counters: (episode: Episode) => Episode;
  readonly alert?: Extract<StepEffect, { kind: 'alert' }>;
}

/**
 * Classifies an activity check's result against the episode's streaks
 * (docs/behaviour.md#resource-states): enough "active" results degrade, enough "inactive"
 * in a row recover, enough errors in a row fail. An error is never "no activity": it
 * resets the inactive streak.
 */
export function activityStep(
  host: string,
  episode: Episode | undefined,
  result: ActivityResult,
  settings: HaSettings,
): ActivityStep {
  const reason = result.reason ?? result.verdict;
  if (result.verdict === 'active') {
    const n = (episode?.activeResults ?? 0) + 1;
    return {
      event: n >= settings.maxActivityChecks ? 'activity-active-limit' : 'activity-active',
      reason,
      counters: (e) => ({ ...e, checks: e.checks + 1, activeResults: n, inactiveStreak: 0, errorStreak: 0 }),
    };
  }
  if (result.verdict === 'inactive') {
    const n = (episode?.inactiveStreak ?? 0) + 1;
    return {
      event: n >= settings.inactiveChecksToRecover ? 'activity-inactive-confirmed' : 'activity-inactive',
      reason,
      counters: (e) => ({ ...e, checks: e.checks + 1, inactiveStreak: n, errorStreak: 0 }),
    };
  }
  const n = (episode?.errorStreak ?? 0) + 1;
  const counters = (e: Episode): Episode => ({ ...e, checks: e.checks + 1, errorStreak: n, inactiveStreak: 0 });
  if (n < settings.maxActivityCheckErrors) return { event: 'activity-error', reason, counters };
  const message = `${host}: ${n} activity check errors in a row`;
  return {
    event: 'activity-errors-exhausted',
    reason,
    counters,
    alert: { kind: 'alert', level: 'critical', code: 'activity-errors', message },
  };
}

/** The FSM event a due state timer means, or undefined when the state's action handles it. */
export function timerEvent(state: ResourceState): ResourceEvent | undefined {
  if (state === 'SUSPECT') return 'activity-due';
  if (state === 'DEGRADED') return 'degraded-recheck';
  return undefined;
}

/**
 * The event a member gets when its partition becomes ACTIVE: an open episode resumes where it was; a resource
 * whose latest health check passed starts like any other (INITIALIZING, then AVAILABLE closes the episode)
 * rather than passing through SUSPECT for nothing. FENCED and FAILED stay so (never powered on).
 */
export function resumeEvent(episode: Episode | undefined, healthy: boolean | undefined): ResourceEvent {
  if (!episode) return 'partition-active';
  if (episode.outcome === 'FENCED') return 'partition-resume-fenced';
  if (episode.outcome === 'FAILED') return 'partition-resume-failed';
  return healthy === true ? 'partition-active' : 'partition-resume-suspect';
}
