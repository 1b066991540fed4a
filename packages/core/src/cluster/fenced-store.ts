import { LeaseLostError } from '../errors/engine-errors.js';
import type {
  ArmRecord,
  EventQuery,
  EventRetention,
  FenceLogEntry,
  OutboxQuery,
  PartitionRecord,
  PowerIntent,
  ResourceRecord,
  StateStore,
  StopLimits,
  StopVerdict,
  StoredEvent,
  WriteFence,
} from '../spi/state-store.js';

/** Where a {@link FencedStateStore} gets its fences. */
export interface FenceSource {
  /** Whether writes for `partition` must be fenced (it is an ownership unit). */
  manages(partition: string): boolean;
  /** The fence while this server may write for `partition`, else undefined. */
  fence(partition: string): WriteFence | undefined;
  /** A fenced write for `partition` was refused: this server drops it at once. */
  lose(partition: string, reason: string): void;
}

/**
 * A {@link StateStore} whose every write for an owned partition carries that partition's fence
 * (docs/behaviour.md#several-servers): a write for a partition this server no longer holds is not sent, and one the
 * store refuses drops the partition; either way {@link LeaseLostError} is thrown. Reads, the event history and the
 * outbox's relay and delivery marks pass.
 */
export class FencedStateStore implements StateStore {
  /** Wraps `base`; `partitionOf` names the partition of a resource key. */
  constructor(
    private readonly base: StateStore,
    private readonly source: FenceSource,
    private readonly partitionOf: (resourceKey: string) => string | undefined,
  ) {}

  loadResources(): Promise<ResourceRecord[]> {
    return this.base.loadResources();
  }
  getResource(key: string): Promise<ResourceRecord | undefined> {
    return this.base.getResource(key);
  }
  saveResource(record: ResourceRecord, expectedVersion: number | null): Promise<boolean> {
    return this.fenced(record.partition, (o) => this.base.saveResource(record, expectedVersion, o));
  }
  saveResourceWithEvents(
    record: ResourceRecord,
    expectedVersion: number | null,
    events: ReadonlyArray<Readonly<{ t: number; type: string }>>,
  ): Promise<number[] | undefined> {
    return this.fenced(record.partition, (o) => this.base.saveResourceWithEvents(record, expectedVersion, events, o));
  }
  deleteResource(key: string): Promise<void> {
    return this.fenced(this.partitionOf(key), (o) => this.base.deleteResource(key, o));
  }
  loadPartitions(): Promise<PartitionRecord[]> {
    return this.base.loadPartitions();
  }
  savePartition(record: PartitionRecord, expectedVersion: number | null): Promise<boolean> {
    return this.fenced(record.id, (o) => this.base.savePartition(record, expectedVersion, o));
  }
  appendFenceLog(entry: FenceLogEntry): Promise<void> {
    return this.fenced(entry.partition, (o) => this.base.appendFenceLog(entry, o));
  }
  countFenceLog(since: number, partition?: string): Promise<number> {
    return this.base.countFenceLog(since, partition);
  }
  takeStop(entry: FenceLogEntry, limits: StopLimits): Promise<StopVerdict> {
    return this.fenced(entry.partition, (o) => this.base.takeStop(entry, limits, o));
  }
  putIntent(intent: PowerIntent): Promise<void> {
    return this.fenced(this.partitionOf(intent.resource), (o) => this.base.putIntent(intent, o));
  }
  clearIntent(resource: string): Promise<void> {
    return this.fenced(this.partitionOf(resource), (o) => this.base.clearIntent(resource, o));
  }
  listIntents(): Promise<PowerIntent[]> {
    return this.base.listIntents();
  }
  recordArm(record: ArmRecord): Promise<boolean> {
    return this.fenced(this.partitionOf(record.resource), (o) => this.base.recordArm(record, o));
  }
  latestArm(resource: string): Promise<ArmRecord | undefined> {
    return this.base.latestArm(resource);
  }
  listUndelivered(query: OutboxQuery): Promise<StoredEvent[]> {
    return this.base.listUndelivered(query);
  }
  markDelivered(ids: readonly number[]): Promise<void> {
    return this.base.markDelivered(ids);
  }
  appendEvent(event: Readonly<{ t: number; type: string }>): Promise<void> {
    return this.base.appendEvent(event);
  }
  listEvents(query: EventQuery): Promise<StoredEvent[]> {
    return this.base.listEvents(query);
  }
  pruneEvents(retention: EventRetention): Promise<number> {
    return this.base.pruneEvents(retention);
  }
  async close(): Promise<void> {
    await this.base.close?.();
  }

  private async fenced<T>(
    partition: string | undefined,
    write: (options: { fence?: WriteFence }) => Promise<T>,
  ): Promise<T> {
    if (partition === undefined || !this.source.manages(partition)) return write({});
    const fence = this.source.fence(partition);
    if (!fence) {
      this.source.lose(partition, 'write attempted after the lease deadline');
      throw new LeaseLostError(partition, 'not held by this server: write not sent');
    }
    try {
      return await write({ fence });
    } catch (err) {
      if (err instanceof LeaseLostError) this.source.lose(partition, 'fenced write refused by the store');
      throw err;
    }
  }
}
