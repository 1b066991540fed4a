/**
 * The ports through which the KVM provider talks to the world (docs/behaviour.md#kvm-hosts). An embedding
 * control plane implements them against its own agent connections and inventory; the
 * standalone mode implements them over the hafence host agent's HTTP API; the testkit
 * implements them over simulated hosts.
 */

/** The heartbeat record an agent writes to `<mount>/<dir>/hb-<hostId>` (atomically). */
export interface HeartbeatRecord {
  /** Increases by one on every write; the activity check compares content, never times. */
  readonly counter: number;
  /** True only while HA is enabled for the host and a watchdog device is held open. */
  readonly armed: boolean;
  /** The agent self-fences after this many ms of isolation. */
  readonly selfFenceAfter: number;
  /** The watchdog that will reset the host: `hardware`, `softdog`, `simulated`, or `none`. */
  readonly watchdog: 'hardware' | 'softdog' | 'simulated' | 'none';
  /**
   * Additive: the agent's worst case from `selfFenceAfter` to the watchdog reset (one
   * interval, the peer query, the VM-stop grace, the watchdog timeout). The lease
   * waits for at least this beyond `selfFenceAfter`, whatever its configured margin.
   */
  readonly resetMarginMs?: number;
  /**
   * Additive (absent = 0): the `armGen` of the last arm/disarm request the agent applied
   * (docs/behaviour.md#several-management-servers). The lease trusts `armed` only when this echoes the latest arm
   * recorded.
   */
  readonly armGen?: number;
}

/** An arm/disarm request to an agent: the decision and its `armGen`, recorded before it is sent. */
export interface ArmRequest {
  /** `true`: HA enabled for the host (arm the watchdog); `false`: disarm. */
  readonly armed: boolean;
  /** Increases with every decision for the host; the agent refuses one lower than it has applied. */
  readonly armGen: number;
}

/** The agent's answer to a health request. */
export interface AgentHealth {
  /** The agent answered (its control connection is up). */
  readonly connected: boolean;
  /** The agent can write its heartbeat to the shared mount. */
  readonly storageOk?: boolean;
  readonly detail?: string;
  /**
   * The heartbeat record the agent last wrote (additive: lets the provider know whether
   * the host's self-fence lease is armed before any neighbour has read the file).
   */
  readonly heartbeat?: HeartbeatRecord;
  /**
   * Additive: the `armGen` the agent last applied, even before a heartbeat shows it (lets
   * the provider see that a request landed and choose a higher gen for the next one).
   */
  readonly armGen?: number;
}

/** Health check port: the KVM agent's connection to the control plane. */
export interface AgentConnectivity {
  /** Asks `host`'s agent for its health. A failure to reach it resolves `{ connected: false }`. */
  health(host: string, signal: AbortSignal): Promise<AgentHealth>;
  /**
   * Tells `host`'s agent whether HA is enabled for it (it arms/disarms its watchdog). The
   * request carries its `armGen`, already recorded; the agent refuses (rejects) a lower
   * `armGen` than one it has applied and echoes the one it applied in its heartbeats.
   */
  setArmed?(host: string, request: ArmRequest, signal: AbortSignal): Promise<void>;
}

/** What a checker saw when it read a suspect's heartbeat twice, a window apart. */
export type HeartbeatObservation =
  | {
      readonly ok: true;
      readonly first: HeartbeatRecord;
      readonly second: HeartbeatRecord;
      /**
       * What the checker saw of the VM volumes it was asked to read (absent when none were
       * asked for). A changed volume proves activity; an unchanged one proves nothing.
       */
      readonly volumes?: VolumeActivity;
    }
  | {
      readonly ok: false;
      readonly reason: 'mount-unreadable' | 'no-heartbeat' | 'timeout' | 'error';
      readonly detail: string;
    };

/** What a checker saw of a suspect's VM volumes over the activity window (docs/behaviour.md#kvm-hosts). */
export interface VolumeActivity {
  /** Volumes read in both passes (changed or not). */
  readonly read: number;
  /** Volumes on storage the checker's reader does not handle (not read; they prove nothing). */
  readonly skipped: number;
  /** Volumes whose attributes differed between the passes (appeared or vanished too). */
  readonly changed: readonly string[];
  /** Volumes that could not be read in a pass (an error, a timeout): they prove nothing either way. */
  readonly failed: readonly VolumeReadFailure[];
  /**
   * Each volume's fingerprint in the second pass (opaque; absent for volumes not read).
   * The provider compares them with the previous check's, so a write between two checks
   * is seen too (the seed: "write activity since the last health check").
   */
  readonly fingerprints?: Readonly<Record<string, string>>;
}

/** A volume a checker could not read. */
export interface VolumeReadFailure {
  readonly volume: string;
  readonly detail: string;
}

/** A volume of a VM running on a host. */
export interface VmVolume {
  /** The VM (libvirt domain) name. */
  readonly vm: string;
  /** A path on the shared mount (file storage), or an id that the checker's volume reader resolves. */
  readonly volume: string;
}

/**
 * Control-plane port: the volumes of the VMs running on each host (docs/behaviour.md#kvm-hosts, "VM volume
 * activity"). A control plane that knows where its VMs run implements `volumesOf` from
 * its own records; `hafence serve` asks each host's agent (`GET /volumes`) and keeps the
 * last answer, since a suspect's agent is by definition not answering.
 */
export interface VmVolumeDirectory {
  /** The volumes of the VMs last known to run on `host`; undefined when never known. */
  volumesOf(host: string): readonly VmVolume[] | undefined;
  /**
   * Optional: refreshes the list for `host` from the host itself. The provider calls it
   * after a health check that reached the host's agent, at most once per refresh interval;
   * a failure keeps the last list.
   */
  refresh?(host: string, signal: AbortSignal): Promise<void>;
}

/** Activity check port: runs a read on a neighbour host (request/reply with a reply timeout). */
export interface NeighborExecutor {
  /**
   * Asks `checker` to read `suspect`'s heartbeat twice, `windowMs` apart, bypassing
   * caches — and, in the same two passes, the attributes of `volumes` (the suspect's VM
   * volumes, each after a fresh open). Rejects or answers `ok: false` when the checker
   * cannot read the mount.
   */
  readHeartbeat(
    checker: string,
    suspect: string,
    windowMs: number,
    signal: AbortSignal,
    volumes?: readonly string[],
  ): Promise<HeartbeatObservation>;
  /** Asks `peer` whether it can still reach `suspect` (lease condition 4). */
  canReach?(peer: string, suspect: string, signal: AbortSignal): Promise<boolean>;
}

/** KVM facts about a host, from the control plane's inventory. */
export interface KvmHostFacts {
  readonly hypervisor: string;
  /** The cluster's shared (NFS) pool is mounted on the host. */
  readonly sharedPoolMounted: boolean;
  readonly maintenance: boolean;
  /** Number of VMs on shared storage (informational: empty hosts still count). */
  readonly vms?: number;
}

/** Inventory port: KVM facts per host. */
export interface KvmInventory {
  facts(host: string): KvmHostFacts | undefined;
}
