import { defaultPartitionConditions, type PartitionView, type ProviderContext } from '@hafence/core';
import type { ProviderFixture } from './provider-fixture.js';

/** The provider methods the suite calls. */
export type ProviderMethod =
  | 'isEligible'
  | 'isInMaintenance'
  | 'partitionConditions'
  | 'healthCheck'
  | 'activityCheck'
  | 'recover'
  | 'fence'
  | 'selfFenceLease';

/** Every method, the optional `selfFenceLease` included. */
export const PROVIDER_METHODS: readonly ProviderMethod[] = [
  'isEligible',
  'isInMaintenance',
  'partitionConditions',
  'healthCheck',
  'activityCheck',
  'recover',
  'fence',
  'selfFenceLease',
];

/** The resource state a method is called in, as the engine would. */
export const STATE_OF: Readonly<Record<ProviderMethod, ProviderContext['state']>> = {
  isEligible: 'INITIALIZING',
  isInMaintenance: 'AVAILABLE',
  partitionConditions: 'AVAILABLE',
  healthCheck: 'AVAILABLE',
  activityCheck: 'CHECKING',
  recover: 'RECOVERING',
  fence: 'FENCING',
  selfFenceLease: 'FENCING',
};

/** The partition of the fixture's resource with it as its one healthy member. */
export function partitionViewOf(fx: ProviderFixture): PartitionView {
  const lineage = fx.inventory?.lineage(fx.resource.partition) ?? [];
  const partition = lineage[0] ?? {
    id: fx.resource.partition,
    kind: fx.provider.partitionKind,
    enabled: true,
    haEnabled: true,
  };
  const members = fx.inventory?.resourcesIn(fx.resource.partition) ?? [fx.resource];
  return {
    partition,
    ancestors: lineage.slice(1),
    members: members.map((spec) => ({ spec, state: 'AVAILABLE', eligible: true, healthy: true, inEpisode: false })),
  };
}

/** Calls `method` on the fixture's resource; `undefined` when the provider lacks it (`selfFenceLease`). */
export function invoke(
  fx: ProviderFixture,
  method: ProviderMethod,
  ctx: ProviderContext,
): Promise<unknown> | undefined {
  const p = fx.provider;
  const r = fx.resource;
  switch (method) {
    case 'isEligible':
      return p.isEligible(r, ctx);
    case 'isInMaintenance':
      return p.isInMaintenance(r, ctx);
    case 'partitionConditions':
      return p.partitionConditions
        ? p.partitionConditions(partitionViewOf(fx), ctx)
        : Promise.resolve(defaultPartitionConditions(partitionViewOf(fx)));
    case 'healthCheck':
      return p.healthCheck(r, ctx);
    case 'activityCheck':
      return p.activityCheck(r, ctx);
    case 'recover':
      return p.recover(r, ctx);
    case 'fence':
      return p.fence(r, ctx);
    case 'selfFenceLease':
      return p.selfFenceLease?.(r, ctx);
  }
}
