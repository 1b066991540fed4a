import type { HaSettings } from '../config/schema.js';
import type { AlertCode, AlertLevel } from './alert.js';
import type { Clock } from './clock.js';
import type { Inventory } from './inventory.js';
import type { Logger } from './logger.js';
import type { Partition, PartitionKind } from './partition.js';
import type { ChassisPower } from './power-driver.js';
import type { ResourceSpec } from './resource.js';
import type { ResourceState } from './states.js';

/**
 * Power control of one resource, handed to a provider by the engine. Stop commands
 * pass the fence budget, their intent is persisted before they are sent, and a
 * status read of `OFF` is the engine's own proof for releasing workloads.
 */
export interface PowerControl {
  /** Reads chassis power (a fresh read, never a cache). */
  status(): Promise<ChassisPower>;
  /** Powers on. */
  on(): Promise<void>;
  /** Hard power off (a stop command). */
  off(): Promise<void>;
  /** Power cycle (a stop command; its acknowledgement is not proof of OFF). */
  cycle(): Promise<void>;
  /** Hard reset (a stop command). */
  reset(): Promise<void>;
}

/** What every provider call receives besides the resource. */
export interface ProviderContext {
  /** Fires when the call's timeout elapses or its result is no longer wanted. */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly inventory: Inventory;
  /** Power control of this resource; absent when it has no controller configured. */
  readonly power?: PowerControl;
  /** Current HA state of the resource. */
  readonly state: ResourceState;
  /**
   * Effective settings of this resource (defaults, then zone, pod, cluster and resource
   * overrides), in milliseconds or counts. Build one for a test with
   * `{ ...DEFAULT_SETTINGS, …overrides }`.
   */
  readonly settings: Readonly<HaSettings>;
  /**
   * Waits `ms` on the injected clock (virtual time under a test clock); rejects with the
   * call's abort reason as soon as {@link ProviderContext.signal} fires. Use it for every
   * pause between polls instead of `setTimeout`.
   */
  readonly sleep: (ms: number) => Promise<void>;
  /**
   * Raises an operator alert on the service's event bus (absent outside the engine):
   * `code` is a stable kebab-case identifier; `resource` defaults to this one.
   */
  readonly alert?: (level: AlertLevel, code: AlertCode, message: string, resource?: string) => void;
  /**
   * The resource's scope is observe-only (docs/observe-only.md): the engine sends no power command for it, and the
   * provider must send nothing that changes the world either (e.g. no arm/disarm of a self-fence); reads are fine.
   * Absent means false.
   */
  readonly observeOnly?: boolean;
  /**
   * An operator put this resource in maintenance through hafence (`HaService.setMaintenance`, the operator API), which
   * the provider's own {@link HAProvider.isInMaintenance} may not know of. A provider treats it like its own
   * maintenance flag: e.g. the KVM provider disarms the host's self-fence. Absent means false.
   */
  readonly operatorMaintenance?: boolean;
}

/** Answer of an eligibility question. */
export interface Verdict {
  readonly ok: boolean;
  /** Why not (or a note why yes). */
  readonly reason?: string;
}

/** Result of a health check. */
export interface HealthResult {
  readonly healthy: boolean;
  readonly reason?: string;
}

/** Result of an activity check: `error` is never taken as "no activity". */
export interface ActivityResult {
  readonly verdict: 'active' | 'inactive' | 'error';
  readonly reason?: string;
}

/** Result of a recovery attempt. */
export interface RecoverResult {
  readonly ok: boolean;
  readonly reason?: string;
}

/**
 * Result of a fence. `off` is accepted only when the engine itself saw a status read
 * of OFF through {@link PowerControl} during the fence; `unreachable` sends the engine
 * to the self-fence lease, if the provider has one.
 */
export interface FenceResult {
  readonly outcome: 'off' | 'unreachable' | 'failed';
  readonly reason?: string;
}

/** The self-fence lease of a resource (docs/behaviour.md#kvm-hosts). */
export type LeaseStatus =
  | { readonly state: 'none'; readonly reason: string }
  | { readonly state: 'pending'; readonly deadline: number; readonly reason?: string }
  | { readonly state: 'expired'; readonly evidence: string };

/** A member of a partition as the engine sees it, for {@link HAProvider.partitionConditions}. */
export interface MemberView {
  readonly spec: ResourceSpec;
  readonly state: ResourceState;
  readonly eligible: boolean;
  /** Latest health check passed (undefined before the first one). */
  readonly healthy: boolean | undefined;
  /** The resource is in an open failure episode. */
  readonly inEpisode: boolean;
}

/** A partition with its members and ancestors. */
export interface PartitionView {
  readonly partition: Partition;
  /** Ancestors, innermost first. */
  readonly ancestors: readonly Partition[];
  readonly members: readonly MemberView[];
}

/**
 * A plugin that knows one resource kind (docs/behaviour.md#providers). Every method gets an AbortSignal
 * in its context and must stop its work when it fires.
 */
export interface HAProvider {
  /** The resource type it protects (`ResourceRef.type`). */
  readonly resourceType: string;
  /** The partition kind it works on (KVM: `cluster`). */
  readonly partitionKind: PartitionKind;
  /** Can HA protect this resource at all? No → UNSUPPORTED. */
  isEligible(resource: ResourceSpec, ctx: ProviderContext): Promise<Verdict>;
  /** Operator maintenance → INELIGIBLE. */
  isInMaintenance(resource: ResourceSpec, ctx: ProviderContext): Promise<boolean>;
  /**
   * Do the partition's conditions permit HA (→ ACTIVE)? Optional: without it the engine
   * uses {@link defaultPartitionConditions} (the partition and every enclosing one
   * enabled, and at least one eligible member).
   */
  partitionConditions?(view: PartitionView, ctx: Omit<ProviderContext, 'power' | 'state'>): Promise<Verdict>;
  /** Cheap, read-only check; runs in every state. */
  healthCheck(resource: ResourceSpec, ctx: ProviderContext): Promise<HealthResult>;
  /** Passive observation of the resource's side effects. */
  activityCheck(resource: ResourceSpec, ctx: ProviderContext): Promise<ActivityResult>;
  /** Brings the resource back (KVM: off, verify OFF, on). */
  recover(resource: ResourceSpec, ctx: ProviderContext): Promise<RecoverResult>;
  /** Stops the resource for good, proven by a status read of OFF. */
  fence(resource: ResourceSpec, ctx: ProviderContext): Promise<FenceResult>;
  /** The self-fence lease, for resources whose agent can fence itself. */
  selfFenceLease?(resource: ResourceSpec, ctx: ProviderContext): Promise<LeaseStatus>;
  /** Releases what the provider holds. */
  shutdown?(): Promise<void>;
}

/**
 * The partition conditions used when a provider has no `partitionConditions`: the
 * partition and every enclosing partition are enabled, and at least one member is
 * eligible. The storm guard and the operator's HA switch are the engine's, on top.
 */
export function defaultPartitionConditions(view: PartitionView): Verdict {
  const disabled = [view.partition, ...view.ancestors].find((p) => !p.enabled);
  if (disabled) return { ok: false, reason: `${disabled.kind} ${disabled.id} is disabled` };
  if (!view.members.some((m) => m.eligible)) return { ok: false, reason: 'no eligible member' };
  return { ok: true };
}
