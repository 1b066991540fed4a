import type { HaOverride, OperatorMaintenance } from './operator.js';
import type { ChassisCommand } from './power-driver.js';
import type { ResourceRef } from './resource.js';
import type { PartitionState, ResourceState } from './states.js';

/** Counters and flags of one failure episode (docs/behaviour.md#resource-states). */
export interface Episode {
  /** Per-resource sequence number of the episode. */
  readonly id: number;
  readonly openedAt: number;
  /** `workloads.released` was emitted in this episode. */
  readonly released: boolean;
  /** Activity checks finished in this episode (drives the backoff). */
  readonly checks: number;
  /** "activity seen" results in this episode. */
  readonly activeResults: number;
  /** Consecutive "no activity" results. */
  readonly inactiveStreak: number;
  /** Consecutive activity-check errors. */
  readonly errorStreak: number;
  /** Recovery attempts started in this episode. */
  readonly recoverAttempts: number;
  /** A DEGRADED alert was raised in this episode. */
  readonly degradedAlerted: boolean;
  /**
   * Our own stop command left the host verified OFF and no power-on of ours has been
   * confirmed since: an OFF read now is ours, never a stranger's (docs/behaviour.md#kvm-hosts).
   */
  readonly ownOff?: boolean;
  /**
   * The host was read OFF in this episode by something other than our own stop: no stop
   * command may go to it any more, and the framework never powers it on (docs/behaviour.md#kvm-hosts).
   */
  readonly offRead?: boolean;
  /**
   * Observe-only (docs/observe-only.md): a command of this episode was decided and not sent. Its decisions rest on
   * commands that never took effect, so once the resource acts again a recovery or fence is verified anew first.
   */
  readonly observed?: boolean;
  /** The episode reached FENCED or FAILED; it resumes there after an INACTIVE spell. */
  readonly outcome?: 'FENCED' | 'FAILED';
}

/** Deadlines of the resource's pending timers, persisted so a restart resumes them. */
export interface ResourceTimers {
  /** Next activity check (SUSPECT). */
  readonly activityAt?: number;
  /** Next recovery attempt (RECOVERING after a failed attempt). */
  readonly retryAt?: number;
  /** End of the quiet period (INITIALIZING). */
  readonly quietUntil?: number;
  /** Next DEGRADED re-check. */
  readonly recheckAt?: number;
  /** Next look at the self-fence lease (FENCING, FAILED). */
  readonly leaseAt?: number;
}

/** Persisted HA state of a resource. Every write is a compare-and-set on `version`. */
export interface ResourceRecord {
  readonly key: string;
  readonly ref: ResourceRef;
  readonly partition: string;
  readonly state: ResourceState;
  readonly version: number;
  /** When the current state was entered. */
  readonly since: number;
  /** The open failure episode, if any. */
  readonly episode?: Episode;
  /** Id the next episode will get. */
  readonly nextEpisode: number;
  /** Workloads released outside an episode (power observed OFF); cleared when it runs again. */
  readonly releasedOutside: boolean;
  readonly timers: ResourceTimers;
  /**
   * The operator's maintenance flag (docs/behaviour.md#operator-actions), ORed with the provider's
   * `isInMaintenance`; absent when not set.
   */
  readonly operatorMaintenance?: OperatorMaintenance;
}

/** Persisted HA state of a partition. */
export interface PartitionRecord {
  readonly id: string;
  readonly state: PartitionState;
  readonly version: number;
  readonly since: number;
  /** Why the partition is in its state. */
  readonly reason: string;
  /** The storm guard holds since this time. */
  readonly stormSince?: number;
  /** After a storm: HA actions resume no earlier than this. */
  readonly cooldownUntil?: number;
  /** The operator's HA switch (docs/behaviour.md#operator-actions): wins over the partition's `haEnabled`. */
  readonly haOverride?: HaOverride;
}

/** One stop command the framework sent (the fence budget counts these). */
export interface FenceLogEntry {
  readonly at: number;
  readonly partition: string;
  readonly resource: string;
  readonly command: ChassisCommand;
  /** Failure episode it belonged to, when any. */
  readonly episode?: number;
}

/** A stop command's intent, persisted before the command is sent (docs/behaviour.md#resource-states). */
export interface PowerIntent {
  readonly resource: string;
  readonly command: ChassisCommand;
  readonly at: number;
}

/**
 * Proof that a write comes from the partition's current owner (docs/behaviour.md#several-servers).
 * A store checks it in the same transaction as the write: the partition's owner row must
 * still hold `epoch` and `runId`, else nothing is written and {@link LeaseLostError} is thrown.
 */
export interface WriteFence {
  readonly partition: string;
  readonly epoch: number;
  readonly runId: string;
}

/** Options of a state write. */
export interface WriteOptions {
  /** Write only while this server still owns the partition (several servers). */
  readonly fence?: WriteFence;
}

/** Limits of the fence budget for one stop command (docs/behaviour.md#scheduling-and-guards). */
export interface StopLimits {
  /** Stop commands allowed per partition within the window. */
  readonly perPartition: number;
  /** Stop commands allowed across all partitions within the window. */
  readonly global: number;
  readonly windowMs: number;
  /** Operator resumes: commands at or before these times no longer count (`global` or a partition id). */
  readonly resumedAt?: Readonly<Record<string, number>>;
}

/** What {@link StateStore.takeStop} decided. */
export type StopVerdict =
  | { readonly taken: true }
  | { readonly taken: false; readonly scope: string; readonly count: number; readonly limit: number };

/** An arm or disarm of a host agent's self-fence, recorded before it is sent (docs/behaviour.md#kvm-hosts). */
export interface ArmRecord {
  readonly resource: string;
  /** Increases with every arm and disarm of the resource. */
  readonly armGen: number;
  readonly kind: 'arm' | 'disarm';
  readonly at: number;
}

/** One event of the history as stored. */
export interface StoredEvent {
  /** Increasing id assigned by the store. */
  readonly id: number;
  readonly t: number;
  readonly type: string;
  /** The whole event as JSON. */
  readonly json: string;
}

/** A page of the outbox's undelivered rows (docs/behaviour.md#persistence): ids above `afterId`, oldest first. */
export interface OutboxQuery {
  /** Only this partition's rows; every partition's without it. */
  readonly partition?: string;
  readonly afterId?: number;
  readonly limit: number;
}

/** A page of the event history: events with an id above `afterId`, oldest first. */
export interface EventQuery {
  readonly afterId?: number;
  readonly limit: number;
}

/** How much event history to keep; older or surplus events are pruned. */
export interface EventRetention {
  /** Events with `t` before this are dropped. */
  readonly before: number;
  /** At most this many events are kept (the newest). */
  readonly maxRows: number;
}

/**
 * Where HA state lives. Writes are compare-and-set: `expectedVersion` is the version
 * the caller read (`null` to insert); a mismatch returns false and writes nothing.
 * A write with a {@link WriteFence} whose lease is gone throws {@link LeaseLostError}.
 */
export interface StateStore {
  loadResources(): Promise<ResourceRecord[]>;
  getResource(key: string): Promise<ResourceRecord | undefined>;
  saveResource(record: ResourceRecord, expectedVersion: number | null, options?: WriteOptions): Promise<boolean>;
  deleteResource(key: string, options?: WriteOptions): Promise<void>;
  loadPartitions(): Promise<PartitionRecord[]>;
  savePartition(record: PartitionRecord, expectedVersion: number | null, options?: WriteOptions): Promise<boolean>;
  appendFenceLog(entry: FenceLogEntry, options?: WriteOptions): Promise<void>;
  /** Stop commands since `since` (exclusive), in one partition or (without it) everywhere. */
  countFenceLog(since: number, partition?: string): Promise<number>;
  /**
   * The fence budget's one atomic step: counts the window in the partition and globally
   * and, when both are below their limits, appends `entry` to the fence log — in one
   * transaction that serialises concurrent callers (several servers cannot overspend).
   */
  takeStop(entry: FenceLogEntry, limits: StopLimits, options?: WriteOptions): Promise<StopVerdict>;
  putIntent(intent: PowerIntent, options?: WriteOptions): Promise<void>;
  clearIntent(resource: string, options?: WriteOptions): Promise<void>;
  listIntents(): Promise<PowerIntent[]>;
  /** Records an arm or disarm; `armGen` must exceed the resource's latest, else false and nothing is written. */
  recordArm(record: ArmRecord, options?: WriteOptions): Promise<boolean>;
  /** The resource's latest arm or disarm. */
  latestArm(resource: string): Promise<ArmRecord | undefined>;
  /**
   * The outbox (docs/behaviour.md#persistence): {@link StateStore.saveResource}, and in the same transaction `events`
   * appended to the event history as rows of `record.partition` not yet delivered, in order. Resolves to the rows' ids
   * in the order of `events` (each event's `id`: increasing, never reused), or `undefined` when the compare-and-set
   * failed — then nothing is written. Without events it writes the record alone.
   */
  saveResourceWithEvents(
    record: ResourceRecord,
    expectedVersion: number | null,
    events: ReadonlyArray<Readonly<{ t: number; type: string }>>,
    options?: WriteOptions,
  ): Promise<number[] | undefined>;
  /** Outbox rows not yet delivered (see {@link StateStore.markDelivered}), oldest first: what an owner relays. */
  listUndelivered(query: OutboxQuery): Promise<StoredEvent[]>;
  /** Marks outbox rows delivered (handed to the event bus); unknown or delivered ids are ignored. */
  markDelivered(ids: readonly number[]): Promise<void>;
  /** Appends to the event history (delivered: an event no state write caused, stored after it was emitted). */
  appendEvent(event: Readonly<{ t: number; type: string }>): Promise<void>;
  /** Reads a page of the event history. */
  listEvents(query: EventQuery): Promise<StoredEvent[]>;
  /** Drops history beyond `retention`, never an undelivered outbox row; returns how many events went. */
  pruneEvents(retention: EventRetention): Promise<number>;
  close?(): Promise<void>;
}

/** A management server's membership row (docs/behaviour.md#several-servers). */
export interface MemberRecord {
  readonly msId: string;
  /** Fresh per process start. */
  readonly runId: string;
  /** Increases with every renewal of this run. */
  readonly renewSeq: number;
  /** Reach score per partition (0–1), published for hand-overs. */
  readonly reach?: Readonly<Record<string, number>>;
}

/** A partition's ownership lease. `epoch` is the fencing token; it only grows. */
export interface PartitionLease {
  readonly partition: string;
  readonly msId: string;
  /** Empty when released voluntarily (a taker may act at once). */
  readonly runId: string;
  readonly epoch: number;
  readonly renewSeq: number;
  /** The holder's own lease length. */
  readonly leaseTtlMs: number;
  /** Increases with every fenced write. */
  readonly writeSeq: number;
}

/**
 * Membership and partition leases in the shared database — the only coordinator between
 * management servers. No wall-clock comparison: a challenger watches `renewSeq` on its
 * own monotonic clock and then compare-and-sets the epoch.
 */
export interface CoordinationStore {
  /** Inserts or updates `member` (keyed by `runId`). */
  renewMember(member: MemberRecord): Promise<void>;
  listMembers(): Promise<MemberRecord[]>;
  /** Retires a run (clean stop or self-doubt). */
  removeMember(runId: string): Promise<void>;
  listLeases(): Promise<PartitionLease[]>;
  /**
   * Takes `partition` when its lease still has `expectedEpoch` (`null`: no lease row yet):
   * the new lease has epoch `expectedEpoch + 1` (1 for a first lease). Undefined when another server won.
   */
  acquireLease(
    take: Readonly<{ partition: string; msId: string; runId: string; leaseTtlMs: number }>,
    expectedEpoch: number | null,
  ): Promise<PartitionLease | undefined>;
  /** Renews a held lease (bumps `renewSeq`); false when it is no longer held by `runId` at `epoch`. */
  renewLease(partition: string, runId: string, epoch: number): Promise<boolean>;
  /** Releases a held lease (empties `runId`, keeps the epoch); false when not held. */
  releaseLease(partition: string, runId: string, epoch: number): Promise<boolean>;
}
