import type { ResourceState } from '../spi/states.js';
import { lookup, row, type TransitionTable } from './table.js';

/**
 * Inputs of the resource HA FSM (docs/behaviour.md#resource-states). The engine classifies raw results into
 * these (e.g. "no activity" below or at `inactiveChecksToRecover`), so the table is pure.
 */
export const RESOURCE_EVENTS = [
  'partition-active',
  'partition-resume-suspect',
  'partition-resume-fenced',
  'partition-resume-failed',
  'partition-inactive',
  'maintenance-start',
  'maintenance-end',
  'eligibility-lost',
  'eligibility-regained',
  'health-passed',
  'health-failed',
  'health-failed-quiet',
  'activity-due',
  'activity-active',
  'activity-active-limit',
  'activity-inactive',
  'activity-inactive-confirmed',
  'activity-error',
  'activity-errors-exhausted',
  'degraded-recheck',
  'recover-succeeded',
  'recover-failed',
  'recover-exhausted',
  'fence-verified-off',
  'fence-lease-expired',
  'fence-failed',
  'power-off-observed',
  'power-on-observed',
  'power-lost',
  'observe-ended',
] as const;

/** An input of the resource HA FSM. */
export type ResourceEvent = (typeof RESOURCE_EVENTS)[number];

const r = (cells: Partial<Record<ResourceEvent, ResourceState>>) =>
  row<ResourceState, ResourceEvent>(RESOURCE_EVENTS, cells);

const EPISODE_OFF = { 'power-off-observed': 'FENCED' } as const;

/**
 * The total resource table. Rows follow docs/behaviour.md#resource-states; `power-off-observed` is a status read
 * of OFF by the sync daemon (never our own command), `power-on-observed` an outside
 * power-on, `power-lost` a controller that became unreadable without an armed lease, `observe-ended` a recovery or
 * fence whose command was decided under observe-only when its resource acts again (docs/observe-only.md): the failure
 * is verified anew from SUSPECT.
 */
export const RESOURCE_TABLE: TransitionTable<ResourceState, ResourceEvent> = {
  // An episode survives an INACTIVE spell: it resumes at SUSPECT, and a fenced or failed
  // one stays so (the framework never powers a fenced host on, docs/behaviour.md#resource-states).
  NONE: r({
    'partition-active': 'INITIALIZING',
    'partition-resume-suspect': 'SUSPECT',
    'partition-resume-fenced': 'FENCED',
    'partition-resume-failed': 'FAILED',
  }),
  INITIALIZING: r({
    'partition-inactive': 'NONE',
    'maintenance-start': 'INELIGIBLE',
    'eligibility-lost': 'UNSUPPORTED',
    'health-passed': 'AVAILABLE',
    'health-failed': 'SUSPECT',
    'power-off-observed': 'UNSUPPORTED',
    'power-lost': 'UNSUPPORTED',
  }),
  AVAILABLE: r({
    'partition-inactive': 'NONE',
    'maintenance-start': 'INELIGIBLE',
    'eligibility-lost': 'UNSUPPORTED',
    'health-failed': 'SUSPECT',
    'power-off-observed': 'UNSUPPORTED',
    'power-lost': 'UNSUPPORTED',
  }),
  INELIGIBLE: r({ 'partition-inactive': 'NONE', 'maintenance-end': 'INITIALIZING' }),
  UNSUPPORTED: r({
    'partition-inactive': 'NONE',
    'maintenance-start': 'INELIGIBLE',
    'eligibility-regained': 'INITIALIZING',
    'power-on-observed': 'INITIALIZING',
  }),
  SUSPECT: r({
    'partition-inactive': 'NONE',
    'maintenance-start': 'INELIGIBLE',
    'eligibility-lost': 'UNSUPPORTED',
    'health-passed': 'AVAILABLE',
    'activity-due': 'CHECKING',
    ...EPISODE_OFF,
  }),
  CHECKING: r({
    'partition-inactive': 'NONE',
    'maintenance-start': 'INELIGIBLE',
    'health-passed': 'AVAILABLE',
    'activity-active': 'SUSPECT',
    'activity-active-limit': 'DEGRADED',
    'activity-inactive': 'SUSPECT',
    'activity-inactive-confirmed': 'RECOVERING',
    'activity-error': 'SUSPECT',
    'activity-errors-exhausted': 'FAILED',
    ...EPISODE_OFF,
  }),
  DEGRADED: r({
    'partition-inactive': 'NONE',
    'maintenance-start': 'INELIGIBLE',
    'eligibility-lost': 'UNSUPPORTED',
    'health-passed': 'AVAILABLE',
    'degraded-recheck': 'SUSPECT',
    ...EPISODE_OFF,
  }),
  RECOVERING: r({
    'partition-inactive': 'NONE',
    'maintenance-start': 'INELIGIBLE',
    'health-passed': 'AVAILABLE',
    'recover-succeeded': 'INITIALIZING',
    'recover-failed': 'RECOVERING',
    'recover-exhausted': 'FENCING',
    'observe-ended': 'SUSPECT',
    ...EPISODE_OFF,
  }),
  FENCING: r({
    'partition-inactive': 'NONE',
    'maintenance-start': 'INELIGIBLE',
    'fence-verified-off': 'FENCED',
    'fence-lease-expired': 'FENCED',
    'fence-failed': 'FAILED',
    'observe-ended': 'SUSPECT',
    ...EPISODE_OFF,
  }),
  FENCED: r({ 'partition-inactive': 'NONE', 'health-passed': 'INITIALIZING' }),
  FAILED: r({
    'partition-inactive': 'NONE',
    'health-passed': 'INITIALIZING',
    'fence-verified-off': 'FENCED',
    'fence-lease-expired': 'FENCED',
    ...EPISODE_OFF,
  }),
};

/** Pure transition of the resource FSM: the next state, or `undefined` if ignored. */
export function resourceTransition(state: ResourceState, event: ResourceEvent): ResourceState | undefined {
  return lookup(RESOURCE_TABLE, state, event);
}

/** States in which the resource is working through a failure (its episode is live). */
export const FAILING_STATES: ReadonlySet<ResourceState> = new Set([
  'SUSPECT',
  'CHECKING',
  'DEGRADED',
  'RECOVERING',
  'FENCING',
]);
