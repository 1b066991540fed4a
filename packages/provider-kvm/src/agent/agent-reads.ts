import type { Clock } from '@hafence/core';
import { withClockSignal } from '@hafence/core/internal';
import type { HeartbeatObservation, VmVolume } from '../ports.js';
import { DEFAULT_HEARTBEAT_DIR, heartbeatPath } from './heartbeat-file.js';
import { nodeHeartbeatReadFs, readHeartbeatTwice, type HeartbeatReadFsLike } from './heartbeat-reader.js';
import { MAX_LISTED_VOLUMES, VmInventoryError, type VmInventory } from './vm-inventory.js';
import type { VolumePassLimits } from './volume-activity.js';
import { FileVolumeReader, type VolumeReader } from './volume-reader.js';

/** Longest wait of `GET /volumes` for the VM inventory. */
export const LIST_VOLUMES_TIMEOUT_MS = 5_000;

/** What {@link AgentReads} needs of the agent's options. */
export interface AgentReadsOptions {
  readonly mount: string;
  readonly dir?: string;
  readonly clock: Clock;
  readonly vmInventory?: VmInventory;
  readonly volumeReader?: VolumeReader;
  readonly volumePassLimits?: VolumePassLimits;
  readonly readFs?: HeartbeatReadFsLike;
}

/**
 * What a host agent reads for others: a suspect's heartbeat and VM volumes (as a checker,
 * `POST /read-heartbeat`) and its own running VMs' volumes (`GET /volumes`).
 */
export class AgentReads {
  private readonly volumeReader: VolumeReader;
  private listing: Promise<VmVolume[]> | undefined;

  /** Binds the reads to the mount; volumes are read by `volumeReader` (default: files on the mount). */
  constructor(private readonly options: AgentReadsOptions) {
    this.volumeReader = options.volumeReader ?? new FileVolumeReader({ mount: options.mount });
  }

  /** Reads `suspect`'s heartbeat twice, `windowMs` apart, and `volumes` in the same two passes. */
  async readHeartbeat(
    suspect: string,
    windowMs: number,
    signal: AbortSignal,
    volumes?: readonly string[],
  ): Promise<HeartbeatObservation> {
    let path: string;
    try {
      path = heartbeatPath(this.options.mount, suspect, this.options.dir ?? DEFAULT_HEARTBEAT_DIR);
    } catch (err) {
      return { ok: false, reason: 'error', detail: (err as Error).message };
    }
    const request =
      volumes && volumes.length > 0
        ? { reader: this.volumeReader, volumes, limits: this.options.volumePassLimits }
        : undefined;
    const fs = this.options.readFs ?? nodeHeartbeatReadFs;
    return readHeartbeatTwice(path, windowMs, this.options.clock, signal, fs, request);
  }

  /**
   * The running VMs' volumes, at most {@link MAX_LISTED_VOLUMES}. One listing runs at a
   * time (concurrent requests share it), and an answer is waited for at most
   * {@link LIST_VOLUMES_TIMEOUT_MS}: a hung inventory must not pile up work.
   */
  async listVolumes(signal: AbortSignal): Promise<{ volumes: VmVolume[]; truncated: boolean }> {
    const inventory = this.options.vmInventory;
    if (!inventory) throw new VmInventoryError('this agent has no VM inventory configured');
    this.listing ??= inventory.runningVolumes(new AbortController().signal).finally(() => {
      this.listing = undefined;
    });
    const listing = this.listing;
    const all = await withClockSignal(this.options.clock, LIST_VOLUMES_TIMEOUT_MS, 'volume listing', () => listing, {
      parent: signal,
      timeoutReason: () => new VmInventoryError(`no answer within ${LIST_VOLUMES_TIMEOUT_MS} ms`),
      race: true,
    });
    return { volumes: all.slice(0, MAX_LISTED_VOLUMES), truncated: all.length > MAX_LISTED_VOLUMES };
  }
}
