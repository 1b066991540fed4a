/** The twelve HA states of a resource (SPEC §3). */
export const RESOURCE_STATES = [
  'NONE', 'INITIALIZING', 'AVAILABLE', 'INELIGIBLE', 'UNSUPPORTED', 'SUSPECT',
  'CHECKING', 'DEGRADED', 'RECOVERING', 'FENCING', 'FENCED', 'FAILED',
] as const;

/** HA state of a resource (SPEC §3). */
export type ResourceState = (typeof RESOURCE_STATES)[number];

/** The HA states of a partition (SPEC §2). */
export const PARTITION_STATES = ['NONE', 'ACTIVE', 'INACTIVE'] as const;

/** HA state of a partition (SPEC §2). */
export type PartitionState = (typeof PARTITION_STATES)[number];
