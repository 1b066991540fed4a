import type { ConfigTargets } from '@hafence/core';

/**
 * The partitions and hosts of every simulated environment and scenario (docs/behaviour.md#scenarios): zone
 * z1 ⊃ pod p1 ⊃ cluster c1 holding hosts h1..hN, for `checkOverrideTargets`.
 */
export function singleClusterTargets(hosts: number): ConfigTargets {
  return {
    partitions: [
      { id: 'z1', kind: 'zone' },
      { id: 'p1', kind: 'pod', parent: 'z1' },
      { id: 'c1', kind: 'cluster', parent: 'p1' },
    ],
    resources: Array.from({ length: hosts }, (_, i) => ({ id: `h${i + 1}`, partition: 'c1' })),
  };
}
