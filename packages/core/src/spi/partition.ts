/**
 * Partition kinds. The built-in ones, outermost first: zone ⊃ pod ⊃ cluster; a provider
 * may name its own (e.g. `'rack'`, `'storage-pool'`) as its `partitionKind`.
 */
export type PartitionKind = 'zone' | 'pod' | 'cluster' | (string & {});

/** A scope that holds resources (docs/behaviour.md#vocabulary). */
export interface Partition {
  readonly id: string;
  readonly kind: PartitionKind;
  /** Enclosing partition (cluster → pod → zone); absent for a zone. */
  readonly parent?: string;
  /** The partition itself is enabled by the operator (KVM: cluster, pod and zone must be). */
  readonly enabled: boolean;
  /** The operator's HA switch for this partition. */
  readonly haEnabled: boolean;
  /**
   * Observe-only (docs/observe-only.md): the engine checks and decides for this partition and every partition inside
   * it, but sends no power command and no arm/disarm. Default false.
   */
  readonly observeOnly?: boolean;
}
