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
 * Where HA state lives. Writes are compare-and-set: `expectedVersion` is the version
 * the caller read (`null` to insert); a mismatch returns false and writes nothing.
 */
export interface StateStore {
  loadResources(): Promise<ResourceRecord[]>;
  getResource(key: string): Promise<ResourceRecord | undefined>;
  saveResource(record: ResourceRecord, expectedVersion: number | null): Promise<boolean>;
  deleteResource(key: string): Promise<void>;
  loadPartitions(): Promise<PartitionRecord[]>;
  savePartition(record: PartitionRecord, expectedVersion: number | null): Promise<boolean>;
  appendFenceLog(entry: FenceLogEntry): Promise<void>;
  /** Stop commands since `since`, in one partition or (without it) everywhere. */
  countFenceLog(since: number, partition?: string): Promise<number>;
  putIntent(intent: PowerIntent): Promise<void>;
  clearIntent(resource: string): Promise<void>;
  listIntents(): Promise<PowerIntent[]>;
  /** Appends to the event history. */
  appendEvent(event: Readonly<{ t: number; type: string }>): Promise<void>;
  close?(): Promise<void>;
}
