import { NotFoundError } from '../errors/engine-errors.js';
import type { Inventory } from '../spi/inventory.js';
import type { Partition } from '../spi/partition.js';
import { resourceKey, type ResourceRef, type ResourceSpec } from '../spi/resource.js';

/** The inventory the service keeps of what was added to it. */
export class MemoryInventory implements Inventory {
  private readonly resources = new Map<string, ResourceSpec>();
  private readonly byPartition = new Map<string, Map<string, ResourceSpec>>();
  private readonly partitions = new Map<string, Partition>();

  resource(ref: ResourceRef): ResourceSpec | undefined {
    return this.resources.get(resourceKey(ref));
  }

  resourcesIn(partitionId: string): readonly ResourceSpec[] {
    return [...(this.byPartition.get(partitionId)?.values() ?? [])];
  }

  partition(id: string): Partition | undefined {
    return this.partitions.get(id);
  }

  lineage(partitionId: string): readonly Partition[] {
    const out: Partition[] = [];
    for (let p = this.partitions.get(partitionId); p; p = p.parent ? this.partitions.get(p.parent) : undefined) {
      out.push(p);
      if (out.length > 8) break;
    }
    return out;
  }

  /** Every partition, in the order they were first added (parents before children). */
  allPartitions(): readonly Partition[] {
    return [...this.partitions.values()];
  }

  /** Every resource, in the order they were first added. */
  allResources(): readonly ResourceSpec[] {
    return [...this.resources.values()];
  }

  /** Every resource with its key, in the order they were first added (nothing copied). */
  resourceEntries(): IterableIterator<[string, ResourceSpec]> {
    return this.resources.entries();
  }

  /** Adds or replaces a partition. */
  putPartition(partition: Partition): void {
    if (partition.parent !== undefined && !this.partitions.has(partition.parent))
      throw new NotFoundError('parent partition', partition.parent);
    this.partitions.set(partition.id, partition);
  }

  /** Removes a partition. */
  deletePartition(id: string): void {
    this.partitions.delete(id);
    this.byPartition.delete(id);
  }

  /** Adds or replaces a resource. */
  putResource(spec: ResourceSpec): void {
    const key = resourceKey(spec.ref);
    const old = this.resources.get(key);
    if (old) this.byPartition.get(old.partition)?.delete(key);
    this.resources.set(key, spec);
    let members = this.byPartition.get(spec.partition);
    if (!members) this.byPartition.set(spec.partition, (members = new Map()));
    members.set(key, spec);
  }

  /** Removes a resource. */
  deleteResource(ref: ResourceRef): void {
    const key = resourceKey(ref);
    const old = this.resources.get(key);
    if (old) this.byPartition.get(old.partition)?.delete(key);
    this.resources.delete(key);
  }
}
