import type { PowerBinding } from './power-driver.js';

/** Identifies a resource: its kind (the provider's `resourceType`) and its id. */
export interface ResourceRef {
  readonly type: string;
  readonly id: string;
}

/** A resource as the HA service knows it. */
export interface ResourceSpec {
  readonly ref: ResourceRef;
  /** Id of the partition (of the provider's partition kind) that holds the resource. */
  readonly partition: string;
  /** How to reach the resource's management controller, if it has one. */
  readonly power?: PowerBinding;
  /** Provider-specific facts (hypervisor type, mounts, VM count…). */
  readonly attributes?: Readonly<Record<string, unknown>>;
}

/** Stable string key of a resource: `type:id`. */
export function resourceKey(ref: ResourceRef): string {
  return `${ref.type}:${ref.id}`;
}
