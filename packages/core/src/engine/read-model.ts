import type { FenceBudgetStatus, PartitionDetail, ResourceDetail, Waiting } from '../spi/operator.js';
import type { Partition } from '../spi/partition.js';
import type { PowerState } from '../spi/power-driver.js';
import type { ResourceSpec } from '../spi/resource.js';
import type { PartitionRecord } from '../spi/state-store.js';
import { deadlineOf } from './decide.js';
import type { ResourceView } from './resource-engine.js';

/**
 * What a resource waits for next: the deadline that drives its state (the quiet period's end in INITIALIZING, the
 * next activity check in SUSPECT, the next recovery attempt, DEGRADED re-check or lease look), else its next health
 * check. While an action is in flight its own timeout bounds it: the next health check is shown.
 */
export function waitingOf(view: ResourceView, now: number): Waiting {
  const { state, timers } = view.record;
  const check: Waiting = { for: 'check', at: view.nextCheckAt };
  if (view.acting) return check;
  if (state === 'INITIALIZING')
    return timers.quietUntil !== undefined && timers.quietUntil > now ? { for: 'quiet', at: timers.quietUntil } : check;
  const at = deadlineOf(state, timers, view.gateUntil);
  if (at === undefined) return check;
  switch (state) {
    case 'SUSPECT':
      return { for: 'activity', at };
    case 'DEGRADED':
      return { for: 'recheck', at };
    case 'FENCING':
    case 'FAILED':
      return { for: at === timers.leaseAt ? 'lease' : 'retry', at };
    default:
      return { for: 'retry', at };
  }
}

/** Facts about a resource the engine's view does not hold. */
export interface ResourceFacts {
  readonly power?: PowerState;
  readonly observeOnly: boolean;
  readonly now: number;
}

/** The operator's view of a resource this server runs. */
export function resourceDetail(view: ResourceView, facts: ResourceFacts): ResourceDetail {
  const r = view.record;
  const episode = r.episode;
  return {
    ref: view.spec.ref,
    partition: view.spec.partition,
    state: r.state,
    since: r.since,
    healthy: view.healthy,
    eligible: view.eligible,
    ...(facts.power === undefined ? {} : { power: facts.power }),
    maintenance: {
      inventory: view.maintenance,
      ...(r.operatorMaintenance ? { operator: { ...r.operatorMaintenance } } : {}),
    },
    observeOnly: facts.observeOnly,
    ...(episode ? { episode: { ...episode } } : {}),
    timers: { ...r.timers, nextCheckAt: view.nextCheckAt },
    waiting: waitingOf(view, facts.now),
    released: !!episode?.released || r.releasedOutside,
    owned: true,
  };
}

/**
 * Several servers: the operator's view of a resource added here that another server runs. This server has no
 * record of it: it reads NONE since `since`, with nothing known; its owner has the facts.
 */
export function unownedDetail(spec: ResourceSpec, facts: ResourceFacts & { readonly since: number }): ResourceDetail {
  return {
    ref: spec.ref,
    partition: spec.partition,
    state: 'NONE',
    since: facts.since,
    healthy: undefined,
    eligible: undefined,
    ...(facts.power === undefined ? {} : { power: facts.power }),
    maintenance: { inventory: undefined },
    observeOnly: facts.observeOnly,
    timers: {},
    released: false,
    owned: false,
  };
}

/** Facts about a partition besides its definition and record. */
export interface PartitionFacts {
  readonly observeOnly: boolean;
  readonly members: number;
  readonly lease?: { readonly held: boolean; readonly epoch?: number };
  /** State, time and reason shown when the partition has no record here (no provider of its kind, run elsewhere). */
  readonly fallback: Pick<PartitionRecord, 'since' | 'reason'>;
  /** The record that holds the operator's HA switch of a partition that has no engine record. */
  readonly switchRecord?: PartitionRecord;
}

/** The operator's view of a partition: `partition` as the engine runs it (its effective HA switch). */
export function partitionDetail(
  partition: Partition,
  record: PartitionRecord | undefined,
  facts: PartitionFacts,
): PartitionDetail {
  const haOverride = record?.haOverride ?? facts.switchRecord?.haOverride;
  return {
    id: partition.id,
    kind: partition.kind,
    ...(partition.parent === undefined ? {} : { parent: partition.parent }),
    enabled: partition.enabled,
    haEnabled: partition.haEnabled,
    ...(haOverride ? { haOverride: { ...haOverride } } : {}),
    state: record?.state ?? 'NONE',
    since: record?.since ?? facts.fallback.since,
    reason: record?.reason ?? facts.fallback.reason,
    ...(record?.stormSince === undefined ? {} : { stormSince: record.stormSince }),
    ...(record?.cooldownUntil === undefined ? {} : { cooldownUntil: record.cooldownUntil }),
    observeOnly: facts.observeOnly,
    ...(facts.lease ? { lease: facts.lease } : {}),
    members: facts.members,
  };
}

/** One scope of the fence budget as operators see it. */
export function budgetStatus(
  scope: string,
  limits: { readonly limit: number; readonly windowMs: number },
  used: number,
  haltedReason: string | undefined,
): FenceBudgetStatus {
  return {
    scope,
    limit: limits.limit,
    used,
    windowMs: limits.windowMs,
    halted: haltedReason !== undefined,
    ...(haltedReason === undefined ? {} : { haltedReason }),
  };
}
