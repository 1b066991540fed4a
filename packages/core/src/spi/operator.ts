import type { PartitionKind } from './partition.js';
import type { PowerState } from './power-driver.js';
import type { ResourceRef } from './resource.js';
import type { Episode, ResourceTimers } from './state-store.js';
import type { PartitionState, ResourceState } from './states.js';

/** Who asked for an operator action (the API's authenticated identity) and why; recorded in its audit event. */
export interface Actor {
  /** The identity recorded as `by` (a token's name, a certificate's CN). */
  readonly by: string;
  /** Free text the operator gave. */
  readonly reason?: string;
}

/** An operator's mark on a resource or partition: who set it, when (engine clock, ms) and why. */
export interface OperatorMark {
  readonly by: string;
  readonly at: number;
  readonly reason?: string;
}

/** The operator's maintenance flag of a resource, persisted in its record (docs/behaviour.md#operator-actions). */
export type OperatorMaintenance = OperatorMark;

/** The operator's HA switch of a partition, persisted in its record; it wins over the embedder's `haEnabled`. */
export interface HaOverride extends OperatorMark {
  readonly enabled: boolean;
}

/**
 * What a resource waits for next, and when (engine clock, ms): `quiet` the end of the quiet period
 * (INITIALIZING), `activity` the next activity check (SUSPECT), `retry` the next recovery attempt,
 * `recheck` the next DEGRADED re-check, `lease` the next look at a self-fence lease, `check` the next
 * health check.
 */
export interface Waiting {
  readonly for: 'check' | 'activity' | 'retry' | 'quiet' | 'recheck' | 'lease';
  readonly at: number;
}

/** How many resources of one partition are in one HA state ({@link ResourceCounts.byState}). */
export interface ResourceStateCount {
  readonly partition: string;
  readonly state: ResourceState;
  readonly count: number;
}

/**
 * Counts of the resources added, as `describeResources()` would show them but without building a detail per resource
 * (`HaService.resourceCounts()`: one pass, for a metrics scrape).
 */
export interface ResourceCounts {
  /** By partition and HA state; only pairs with a resource, in the order a resource of the pair was first added. */
  readonly byState: readonly ResourceStateCount[];
  /** Resources with a power binding, by the power state last read from their controller. */
  readonly byPower: Readonly<Record<PowerState, number>>;
}

/** Everything the engine knows of one resource, for operators (status page, API, CLI). */
export interface ResourceDetail {
  readonly ref: ResourceRef;
  readonly partition: string;
  readonly state: ResourceState;
  /** When the current state was entered. */
  readonly since: number;
  /** Latest health check passed (undefined before the first one here). */
  readonly healthy: boolean | undefined;
  /** Latest eligibility verdict (undefined before the first one here). */
  readonly eligible: boolean | undefined;
  /** Power state of its controller as last read; undefined without a power binding. */
  readonly power?: PowerState;
  /** `inventory`: the provider's answer; `operator`: set through `setMaintenance` (persisted). */
  readonly maintenance: { readonly inventory: boolean | undefined; readonly operator?: OperatorMaintenance };
  /** The engine observes this resource only: it sends no power command and no arm/disarm. */
  readonly observeOnly: boolean;
  /** A copy of the open failure episode (its counters), if any. */
  readonly episode?: Episode;
  /** The persisted deadlines, and when the next health check is due. */
  readonly timers: ResourceTimers & { readonly nextCheckAt?: number };
  /** The earliest deadline that drives the current state. */
  readonly waiting?: Waiting;
  /** The resource's workloads are released (in its episode, or outside one). */
  readonly released: boolean;
  /** This server runs the resource now (several servers: it holds the resource's partition's lease). */
  readonly owned: boolean;
}

/** One scope of the fence budget (docs/behaviour.md#scheduling-and-guards). */
export interface FenceBudgetStatus {
  /** `global` or a partition id. */
  readonly scope: string;
  /** Stop commands allowed within the window. */
  readonly limit: number;
  /** Stop commands counted in the current window (see `HaService.fenceBudgets` for what is counted). */
  readonly used: number;
  readonly windowMs: number;
  /** The scope holds stop commands until the window frees a slot or an operator resumes it. */
  readonly halted: boolean;
  readonly haltedReason?: string;
}

/** Everything the engine knows of one partition, for operators. */
export interface PartitionDetail {
  readonly id: string;
  readonly kind: PartitionKind;
  readonly parent?: string;
  readonly enabled: boolean;
  /** The effective HA switch: the operator's override when set, else the embedder's value. */
  readonly haEnabled: boolean;
  /** The operator's HA switch, persisted (it wins over the configuration's `haEnabled`). */
  readonly haOverride?: HaOverride;
  readonly state: PartitionState;
  /** When the current state was entered. */
  readonly since: number;
  /** Why the partition is in its state. */
  readonly reason: string;
  /** The storm guard holds since this time. */
  readonly stormSince?: number;
  /** After a storm: HA actions resume no earlier than this. */
  readonly cooldownUntil?: number;
  /** The engine observes this partition only: it sends no power command and no arm/disarm. */
  readonly observeOnly: boolean;
  /** Several servers: whether this server holds the lease, and its epoch. Undefined with one server. */
  readonly lease?: { readonly held: boolean; readonly epoch?: number };
  /** Resources added to the partition (directly, not through its children). */
  readonly members: number;
}
