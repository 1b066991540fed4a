import { LeaseLostError } from '../errors/engine-errors.js';
import type {
  ArmRecord,
  CoordinationStore,
  EventQuery,
  EventRetention,
  FenceLogEntry,
  MemberRecord,
  OutboxQuery,
  PartitionLease,
  PartitionRecord,
  PowerIntent,
  ResourceRecord,
  StateStore,
  StopLimits,
  StopVerdict,
  StoredEvent,
  WriteOptions,
} from '../spi/state-store.js';

/**
 * The in-memory {@link StateStore} and {@link CoordinationStore}: compare-and-set writes on
 * `version`, fenced writes checked against the partition leases, a fence log and an event
 * history. Survives an engine restart within one process (tests, several simulated
 * servers sharing one store), not a process restart.
 */
export class MemoryStateStore implements StateStore, CoordinationStore {
  private readonly resources = new Map<string, ResourceRecord>();
  private readonly partitions = new Map<string, PartitionRecord>();
  private readonly fenceLog: FenceLogEntry[] = [];
  private readonly intents = new Map<string, PowerIntent>();
  private readonly arms = new Map<string, ArmRecord>();
  private readonly members = new Map<string, MemberRecord>();
  private readonly leases = new Map<string, PartitionLease>();
  /** `pending`: the partition of an outbox row not yet delivered. */
  private readonly history: Array<{
    readonly id: number;
    readonly event: Readonly<{ t: number; type: string }>;
    pending?: string;
  }> = [];
  /** Undelivered outbox rows by id (a relay and a delivery touch only these). */
  private readonly undelivered = new Map<
    number,
    { readonly id: number; readonly event: Readonly<{ t: number; type: string }>; pending?: string }
  >();
  private nextEventId = 1;

  /** The event history, oldest first (pruning drops the oldest). */
  get events(): ReadonlyArray<Readonly<{ t: number; type: string }>> {
    return this.history.map((e) => e.event);
  }

  async loadResources(): Promise<ResourceRecord[]> {
    return [...this.resources.values()];
  }

  async getResource(key: string): Promise<ResourceRecord | undefined> {
    return this.resources.get(key);
  }

  async saveResource(record: ResourceRecord, expectedVersion: number | null, options?: WriteOptions): Promise<boolean> {
    this.checkFence(options);
    return cas(this.resources, record.key, record, expectedVersion);
  }

  async saveResourceWithEvents(
    record: ResourceRecord,
    expectedVersion: number | null,
    events: ReadonlyArray<Readonly<{ t: number; type: string }>>,
    options?: WriteOptions,
  ): Promise<number[] | undefined> {
    this.checkFence(options);
    if (!cas(this.resources, record.key, record, expectedVersion)) return undefined;
    return events.map((event) => {
      const row = { id: this.nextEventId++, event, pending: record.partition };
      this.history.push(row);
      this.undelivered.set(row.id, row);
      return row.id;
    });
  }

  async deleteResource(key: string, options?: WriteOptions): Promise<void> {
    this.checkFence(options);
    this.resources.delete(key);
    this.intents.delete(key);
  }

  async loadPartitions(): Promise<PartitionRecord[]> {
    return [...this.partitions.values()];
  }

  async savePartition(
    record: PartitionRecord,
    expectedVersion: number | null,
    options?: WriteOptions,
  ): Promise<boolean> {
    this.checkFence(options);
    return cas(this.partitions, record.id, record, expectedVersion);
  }

  async appendFenceLog(entry: FenceLogEntry, options?: WriteOptions): Promise<void> {
    this.checkFence(options);
    this.fenceLog.push(entry);
  }

  async countFenceLog(since: number, partition?: string): Promise<number> {
    return this.countSince(since, partition);
  }

  async takeStop(entry: FenceLogEntry, limits: StopLimits, options?: WriteOptions): Promise<StopVerdict> {
    this.checkFence(options);
    const since = (scope: string) => Math.max(entry.at - limits.windowMs, limits.resumedAt?.[scope] ?? -Infinity);
    // Count and append without an await between them: a yield there would let concurrent
    // callers all count the same window and overspend the budget.
    const inPartition = this.countSince(since(entry.partition), entry.partition);
    if (inPartition >= limits.perPartition) {
      return { taken: false, scope: entry.partition, count: inPartition, limit: limits.perPartition };
    }
    const everywhere = this.countSince(since('global'));
    if (everywhere >= limits.global) return { taken: false, scope: 'global', count: everywhere, limit: limits.global };
    this.fenceLog.push(entry);
    return { taken: true };
  }

  /** Every stop command recorded, oldest first. */
  fenceEntries(): readonly FenceLogEntry[] {
    return this.fenceLog;
  }

  async putIntent(intent: PowerIntent, options?: WriteOptions): Promise<void> {
    this.checkFence(options);
    this.intents.set(intent.resource, intent);
  }

  async clearIntent(resource: string, options?: WriteOptions): Promise<void> {
    this.checkFence(options);
    this.intents.delete(resource);
  }

  async listIntents(): Promise<PowerIntent[]> {
    return [...this.intents.values()];
  }

  async recordArm(record: ArmRecord, options?: WriteOptions): Promise<boolean> {
    this.checkFence(options);
    const latest = this.arms.get(record.resource);
    if (latest && latest.armGen >= record.armGen) return false;
    this.arms.set(record.resource, record);
    return true;
  }

  async latestArm(resource: string): Promise<ArmRecord | undefined> {
    return this.arms.get(resource);
  }

  async appendEvent(event: Readonly<{ t: number; type: string }>): Promise<void> {
    this.history.push({ id: this.nextEventId++, event });
  }

  async listUndelivered(query: OutboxQuery): Promise<StoredEvent[]> {
    const after = query.afterId ?? 0;
    const out: StoredEvent[] = [];
    // In id order: rows are added with increasing ids.
    for (const e of this.undelivered.values()) {
      if (out.length >= query.limit) break;
      if (e.id > after && (query.partition === undefined || e.pending === query.partition)) out.push(storedOf(e));
    }
    return out;
  }

  async markDelivered(ids: readonly number[]): Promise<void> {
    for (const id of ids) {
      const row = this.undelivered.get(id);
      if (row) row.pending = undefined;
      this.undelivered.delete(id);
    }
  }

  async listEvents(query: EventQuery): Promise<StoredEvent[]> {
    const after = query.afterId ?? 0;
    return this.history
      .filter((e) => e.id > after)
      .slice(0, Math.max(0, query.limit))
      .map(storedOf);
  }

  async pruneEvents(retention: EventRetention): Promise<number> {
    const before = this.history.length;
    // Time first, then the row cap over what is left; an undelivered outbox row is never dropped.
    const fresh = this.history.filter((e) => e.pending !== undefined || e.event.t >= retention.before);
    const cut = fresh.length - Math.max(0, retention.maxRows);
    const keep = fresh.filter((e, i) => i >= cut || e.pending !== undefined);
    this.history.splice(0, this.history.length, ...keep);
    return before - keep.length;
  }

  async renewMember(member: MemberRecord): Promise<void> {
    this.members.set(member.runId, member);
  }

  async listMembers(): Promise<MemberRecord[]> {
    return [...this.members.values()];
  }

  async removeMember(runId: string): Promise<void> {
    this.members.delete(runId);
  }

  async listLeases(): Promise<PartitionLease[]> {
    return [...this.leases.values()];
  }

  async acquireLease(
    take: Readonly<{ partition: string; msId: string; runId: string; leaseTtlMs: number }>,
    expectedEpoch: number | null,
  ): Promise<PartitionLease | undefined> {
    const current = this.leases.get(take.partition);
    if (expectedEpoch === null ? current !== undefined : current?.epoch !== expectedEpoch) return undefined;
    const lease: PartitionLease = {
      ...take,
      epoch: (current?.epoch ?? 0) + 1,
      renewSeq: 0,
      writeSeq: current?.writeSeq ?? 0,
    };
    this.leases.set(take.partition, lease);
    return lease;
  }

  async renewLease(partition: string, runId: string, epoch: number): Promise<boolean> {
    const current = this.held(partition, runId, epoch);
    if (!current) return false;
    this.leases.set(partition, { ...current, renewSeq: current.renewSeq + 1 });
    return true;
  }

  async releaseLease(partition: string, runId: string, epoch: number): Promise<boolean> {
    const current = this.held(partition, runId, epoch);
    if (!current) return false;
    this.leases.set(partition, { ...current, runId: '' });
    return true;
  }

  private countSince(since: number, partition?: string): number {
    let n = 0;
    for (const e of this.fenceLog) if (e.at > since && (partition === undefined || e.partition === partition)) n++;
    return n;
  }

  private held(partition: string, runId: string, epoch: number): PartitionLease | undefined {
    const current = this.leases.get(partition);
    return current && runId !== '' && current.runId === runId && current.epoch === epoch ? current : undefined;
  }

  /** The fenced-write check: bumps the owner row's `writeSeq`, or throws when the lease is gone. */
  private checkFence(options: WriteOptions | undefined): void {
    const fence = options?.fence;
    if (!fence) return;
    const current = this.held(fence.partition, fence.runId, fence.epoch);
    if (!current) {
      const found = this.leases.get(fence.partition);
      throw new LeaseLostError(
        fence.partition,
        found ? `now epoch ${found.epoch}, run '${found.runId || '(released)'}'` : 'no lease row',
      );
    }
    this.leases.set(fence.partition, { ...current, writeSeq: current.writeSeq + 1 });
  }
}

function storedOf(e: { readonly id: number; readonly event: Readonly<{ t: number; type: string }> }): StoredEvent {
  return { id: e.id, t: e.event.t, type: e.event.type, json: JSON.stringify(e.event) };
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
