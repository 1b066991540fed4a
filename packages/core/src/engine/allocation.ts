import type { ResourceRef } from '../spi/resource.js';
import type { PartitionState, ResourceState } from '../spi/states.js';

/** A resource as allocation sees it. */
export interface AllocationView {
  readonly ref: ResourceRef;
  readonly state: ResourceState;
  /** HA state of its partition. */
  readonly partitionHa: PartitionState;
}

const NON_HA_OK: ReadonlySet<ResourceState> = new Set(['NONE', 'INELIGIBLE', 'INITIALIZING', 'AVAILABLE']);

/** Work needing HA may go only to AVAILABLE resources (docs/behaviour.md#allocation-helpers). */
export function hostsForHaWork(views: readonly AllocationView[]): ResourceRef[] {
  return views.filter((v) => v.state === 'AVAILABLE').map((v) => v.ref);
}

/**
 * Work not needing HA may go to NONE, INELIGIBLE, INITIALIZING and AVAILABLE resources,
 * those in partitions without HA first (docs/behaviour.md#allocation-helpers).
 */
export function hostsForNonHaWork(views: readonly AllocationView[]): ResourceRef[] {
  const ok = views.filter((v) => NON_HA_OK.has(v.state));
  const noHa = ok.filter((v) => v.partitionHa === 'NONE');
  const rest = ok.filter((v) => v.partitionHa !== 'NONE');
  return [...noHa, ...rest].map((v) => v.ref);
}
