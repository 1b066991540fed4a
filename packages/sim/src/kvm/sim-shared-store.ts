import type { HeartbeatRecord } from '@hafence/provider-kvm';

/** How one host sees the shared (NFS) mount: working, failing fast, or hanging. */
export type MountState = 'up' | 'down' | 'hang';

/**
 * The simulated shared store of a cluster: heartbeat files `hb-<hostId>` and VM volume
 * stamps, with a per-host view of the mount (an NFS outage can hit one host or all).
 * Reads return the content, never a cached attribute (docs/behaviour.md#kvm-hosts).
 */
export class SimSharedStore {
  private readonly mounts = new Map<string, MountState>();
  private readonly heartbeats = new Map<string, HeartbeatRecord>();
  private readonly stamps = new Map<string, number>();

  /** How `host` sees the mount (`up` unless a fault says otherwise). */
  mount(host: string): MountState {
    return this.mounts.get(host) ?? 'up';
  }

  /** Sets the mount state seen by `host`. */
  setMount(host: string, state: MountState): void {
    this.mounts.set(host, state);
  }

  /** Writes `host`'s heartbeat file (temp + rename: readers see old or new, never half). */
  writeHeartbeat(host: string, record: HeartbeatRecord): void {
    this.heartbeats.set(host, record);
  }

  /** The content of `suspect`'s heartbeat file, as anyone with a working mount reads it. */
  readHeartbeat(suspect: string): HeartbeatRecord | undefined {
    return this.heartbeats.get(suspect);
  }

  /** Advances the stamp of VM volume `vm` (the VM wrote to its disk). */
  touchVolume(vm: string): void {
    this.stamps.set(vm, (this.stamps.get(vm) ?? 0) + 1);
  }

  /** The current stamp of VM volume `vm`. */
  volumeStamp(vm: string): number {
    return this.stamps.get(vm) ?? 0;
  }
}
