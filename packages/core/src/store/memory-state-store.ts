import type { FenceLogEntry, PartitionRecord, PowerIntent, ResourceRecord, StateStore } from '../spi/state-store.js';

/**
 * The in-memory {@link StateStore}: compare-and-set writes on `version`, a fence log
 * and an event history. Survives an engine restart within one process (tests), not a
 * process restart.
 */
export class MemoryStateStore implements StateStore {
  private readonly resources = new Map<string, ResourceRecord>();
  private readonly partitions = new Map<string, PartitionRecord>();
  private readonly fenceLog: FenceLogEntry[] = [];
  private readonly intents = new Map<string, PowerIntent>();
  /** The event history, oldest first. */
  readonly events: Array<Readonly<{ t: number; type: string }>> = [];

  async loadResources(): Promise<ResourceRecord[]> {
    return [...this.resources.values()];
  }

  async getResource(key: string): Promise<ResourceRecord | undefined> {
    return this.resources.get(key);
  }

  async saveResource(record: ResourceRecord, expectedVersion: number | null): Promise<boolean> {
    return cas(this.resources, record.key, record, expectedVersion);
  }

  async deleteResource(key: string): Promise<void> {
    this.resources.delete(key);
    this.intents.delete(key);
  }

  async loadPartitions(): Promise<PartitionRecord[]> {
    return [...this.partitions.values()];
  }

  async savePartition(record: PartitionRecord, expectedVersion: number | null): Promise<boolean> {
    return cas(this.partitions, record.id, record, expectedVersion);
  }

  async appendFenceLog(entry: FenceLogEntry): Promise<void> {
    this.fenceLog.push(entry);
  }

  async countFenceLog(since: number, partition?: string): Promise<number> {
    let n = 0;
    for (const e of this.fenceLog) if (e.at > since && (partition === undefined || e.partition === partition)) n++;
    return n;
  }

  /** Every stop command recorded, oldest first. */
  fenceEntries(): readonly FenceLogEntry[] {
    return this.fenceLog;
  }

  async putIntent(intent: PowerIntent): Promise<void> {
    this.intents.set(intent.resource, intent);
  }

  async clearIntent(resource: string): Promise<void> {
    this.intents.delete(resource);
  }

  async listIntents(): Promise<PowerIntent[]> {
    return [...this.intents.values()];
  }

  async appendEvent(event: Readonly<{ t: number; type: string }>): Promise<void> {
    this.events.push(event);
  }
}

function cas<T extends { version: number }>(
  map: Map<string, T>,
  key: string,
  record: T,
  expected: number | null,
): boolean {
  const current = map.get(key);
  if (expected === null ? current !== undefined : current?.version !== expected) return false;
  map.set(key, record);
  return true;
}
