import type { HaService } from '@hafence/core';

/**
 * What the API needs of the engine: `HaService`'s read model, its audited operator actions
 * and its event stream.
 */
export type OperatorEngine = Pick<
  HaService,
  | 'events$'
  | 'describeResource'
  | 'describeResources'
  | 'describePartitions'
  | 'fenceBudgets'
  | 'setMaintenance'
  | 'setHaEnabled'
  | 'resumeFencing'
>;
