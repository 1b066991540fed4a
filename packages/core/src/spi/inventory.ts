import type { Partition } from './partition.js';
import type { ResourceRef, ResourceSpec } from './resource.js';

/** Read access to what the HA service manages; the control plane may supply its own. */
export interface Inventory {
  /** A resource by reference, or undefined. */
  resource(ref: ResourceRef): ResourceSpec | undefined;
  /** Every resource in a partition. */
  resourcesIn(partitionId: string): readonly ResourceSpec[];
  /** A partition by id, or undefined. */
  partition(id: string): Partition | undefined;
  /** The partition and its ancestors, innermost first (cluster, pod, zone). */
  lineage(partitionId: string): readonly Partition[];
}
