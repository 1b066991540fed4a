import type {
  AlertEvent,
  Episode,
  PartitionKind,
  PartitionState,
  PowerState,
  ResourceRef,
  ResourceState,
  ResourceTimers,
} from '@hafence/core';

// The read model of issue 12's contract. These local copies are structural twins of the types
// `@hafence/core` gains on branch i12-core-read; they are replaced by imports once it is merged.

/** What a resource is waiting for next (contract of issue 12). */
export interface Waiting {
  readonly for: 'check' | 'activity' | 'retry' | 'quiet' | 'recheck' | 'lease';
  readonly at: number;
}

/** One resource as the engine describes it (contract of issue 12). */
export interface ResourceDetail {
  readonly ref: ResourceRef;
  readonly partition: string;
  readonly state: ResourceState;
  readonly since: number;
  readonly healthy: boolean | undefined;
  readonly eligible: boolean | undefined;
  readonly power?: PowerState;
  readonly maintenance: {
    readonly inventory: boolean | undefined;
    readonly operator?: { by: string; at: number; reason?: string };
  };
  readonly observeOnly: boolean;
  readonly episode?: Episode;
  readonly timers: ResourceTimers & { readonly nextCheckAt?: number };
  readonly waiting?: Waiting;
  readonly released: boolean;
  readonly owned: boolean;
}

/** A fence budget and how much of it is used (contract of issue 12). */
export interface FenceBudgetStatus {
  readonly scope: string;
  readonly limit: number;
  readonly used: number;
  readonly windowMs: number;
  readonly halted: boolean;
  readonly haltedReason?: string;
}

/** One partition as the engine describes it (contract of issue 12). */
export interface PartitionDetail {
  readonly id: string;
  readonly kind: PartitionKind;
  readonly parent?: string;
  readonly enabled: boolean;
  readonly haEnabled: boolean;
  readonly haOverride?: { enabled: boolean; by: string; at: number; reason?: string };
  readonly state: PartitionState;
  readonly since: number;
  readonly reason: string;
  readonly stormSince?: number;
  readonly cooldownUntil?: number;
  readonly observeOnly: boolean;
  readonly lease?: { readonly held: boolean; readonly epoch?: number };
  readonly members: number;
}

/** An event of the timeline: any `HaEvent` (or a newer kind the page does not know yet). */
export interface PageEvent {
  readonly t: number;
  readonly type: string;
  readonly [field: string]: unknown;
}

/** The server that renders the page. */
export interface PageServerInfo {
  /** The server's id (`--ms-id`). */
  readonly msId: string;
  /** The whole engine runs observe-only (`serve --observe-only`). */
  readonly observeOnly: boolean;
  /** hafence's version. */
  readonly version: string;
}

/**
 * Everything the status page shows, read at one instant. Times are the engine clock's
 * milliseconds; the page shows them relative to `now`.
 */
export interface StatusSnapshot {
  /** The engine clock when the snapshot was read. */
  readonly now: number;
  readonly server: PageServerInfo;
  readonly partitions: readonly PartitionDetail[];
  readonly fenceBudgets: readonly FenceBudgetStatus[];
  readonly resources: readonly ResourceDetail[];
  /** Recent alerts, oldest first as a rule (the page sorts them by time, newest first). */
  readonly alerts: readonly AlertEvent[];
  /** Recent events, oldest first as a rule (the page sorts them by time, newest first). */
  readonly timeline: readonly PageEvent[];
}
