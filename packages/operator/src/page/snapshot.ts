import type { AlertEvent, FenceBudgetStatus, PartitionDetail, ResourceDetail } from '@hafence/core';

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
