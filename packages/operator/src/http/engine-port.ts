import type { HaEvent, ResourceRef, ResourceState } from '@hafence/core';

/** Who asked for an operator action and why (the contract's `Actor` of `@hafence/core`). */
export interface ActorLike {
  readonly by: string;
  readonly reason?: string;
}

/** The fields of a resource's detail the API reads (filters); the rest is passed through as JSON. */
export interface ResourceDetailLike {
  readonly ref: ResourceRef;
  readonly partition: string;
  readonly state: ResourceState;
}

/**
 * What the API needs of the engine: `HaService`'s read model, its operator actions and its
 * event stream. The engine's own `HaService` satisfies it.
 */
export interface OperatorEngine {
  /** Every engine event, in order. */
  readonly events$: { subscribe(next: (event: HaEvent) => void): { unsubscribe(): void } };
  /** One resource's detail; `NotFoundError` when unknown. */
  describeResource(ref: ResourceRef): ResourceDetailLike;
  /** Every resource's detail. */
  describeResources(): readonly ResourceDetailLike[];
  /** Every partition's detail. */
  describePartitions(): readonly object[];
  /** The fence budgets (global and per partition). */
  fenceBudgets(): readonly object[];
  /** The operator's maintenance switch of a resource (audited as `operator.action`). */
  setMaintenance(ref: ResourceRef, on: boolean, actor: ActorLike): Promise<void>;
  /** The operator's HA switch of a partition (audited). */
  setHaEnabled(partitionId: string, enabled: boolean, actor?: ActorLike): Promise<void>;
  /** Lets held stop commands go for `scope` (audited). */
  resumeFencing(scope: string, actor?: ActorLike): void;
}
