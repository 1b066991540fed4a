/** The twelve HA states of a resource (docs/behaviour.md#resource-states). */
export const RESOURCE_STATES = [
  'NONE',
  'INITIALIZING',
  'AVAILABLE',
  'INELIGIBLE',
  'UNSUPPORTED',
  'SUSPECT',
  'CHECKING',
  'DEGRADED',
  'RECOVERING',
  'FENCING',
  'FENCED',
  'FAILED',
] as const;

/** HA state of a resource (docs/behaviour.md#resource-states). */
export type ResourceState = (typeof RESOURCE_STATES)[number];

/** The HA states of a partition (docs/behaviour.md#partitions). */
export const PARTITION_STATES = ['NONE', 'ACTIVE', 'INACTIVE'] as const;

/** HA state of a partition (docs/behaviour.md#partitions). */
export type PartitionState = (typeof PARTITION_STATES)[number];
