import type { AlertCode, AlertLevel } from '../spi/alert.js';
import type { PowerState } from '../spi/power-driver.js';
import type { PartitionState, ResourceState } from '../spi/states.js';

/** Who asked for a power action. */
export type Requester = 'operator' | 'ha' | 'sync' | (string & {});

/** The operator actions that are audited as `operator.action` events. */
export type OperatorAction = 'maintenance-on' | 'maintenance-off' | 'ha-enable' | 'ha-disable' | 'fencing-resume';

/** Proof that a resource's workloads can no longer run (docs/behaviour.md#vocabulary, #resource-states). */
export type ReleaseProof = 'power-off' | 'lease';

/**
 * Every event hafence emits (docs/behaviour.md#scenarios), stamped with virtual time `t` (ms).
 *
 * - `power.action`: a command (`on`, `off`, `soft`, `cycle`, `reset`, `identify`,
 *   `validate`) ran, with who asked, the driver that answered and how long it took; a status
 *   read is not an action (docs/behaviour.md#kvm-hosts).
 * - `power.read-failing`: the first failed status read of a host's failure streak, with
 *   its (redacted) error; the following failed reads of the streak are silent.
 * - `power.read-ok`: the first successful status read after a failure streak, with the
 *   number of failed reads in a row it ended.
 *
 * `resource.transition` and `workloads.released` go through the outbox (docs/behaviour.md#persistence): written with
 * the state change that causes them, emitted once committed, and emitted again after a restart or a takeover when
 * their delivery was not recorded — at least once, each with its `id` (and a release with its `episode`).
 */
export type HaEvent =
  | {
      readonly t: number;
      readonly type: 'resource.transition';
      /** The resource's id (`ResourceRef.id`). */
      readonly resource: string;
      /** The resource's type (`ResourceRef.type`): `host` for hypervisor hosts, a provider's own otherwise. */
      readonly resourceType: string;
      readonly from: ResourceState;
      readonly to: ResourceState;
      readonly reason: string;
      /** The outbox row's id (docs/behaviour.md#persistence): the same on a relay, so a consumer drops duplicates. */
      readonly id?: number;
    }
  | {
      readonly t: number;
      readonly type: 'partition.transition';
      readonly partition: string;
      readonly from: PartitionState;
      readonly to: PartitionState;
      readonly reason: string;
    }
  | {
      readonly t: number;
      readonly type: 'power.transition';
      readonly host: string;
      readonly from: PowerState;
      readonly to: PowerState;
    }
  | {
      readonly t: number;
      readonly type: 'power.action';
      readonly host: string;
      readonly action: string;
      readonly by: Requester;
      readonly ok: boolean;
      readonly error?: string;
      /** The power driver that answered (or was tried last); absent when the command was never sent. */
      readonly driver?: string;
      /** Milliseconds (engine clock) from the command leaving the host's queue to its result; absent when unsent. */
      readonly durationMs?: number;
    }
  | { readonly t: number; readonly type: 'power.read-failing'; readonly host: string; readonly error: string }
  | { readonly t: number; readonly type: 'power.read-ok'; readonly host: string; readonly failures: number }
  | { readonly t: number; readonly type: 'power.auth-failed'; readonly host: string }
  | {
      readonly t: number;
      readonly type: 'workloads.released';
      /** The released resource's id (`ResourceRef.id`). */
      readonly resource: string;
      /** The released resource's type (`ResourceRef.type`). */
      readonly resourceType: string;
      /** @deprecated The resource's id, whatever its type; use `resource` and `resourceType`. */
      readonly host: string;
      readonly proof: ReleaseProof;
      /** The failure episode released (`Episode.id`); absent for a release outside an episode (power seen OFF). */
      readonly episode?: number;
      /** The outbox row's id (docs/behaviour.md#persistence): the same on a relay, so a consumer drops duplicates. */
      readonly id?: number;
    }
  | { readonly t: number; readonly type: 'fencing.halted'; readonly scope: string; readonly reason: string }
  /** Several servers (docs/behaviour.md#several-servers): this server took `partition`'s lease at `epoch`. */
  | { readonly t: number; readonly type: 'partition.acquired'; readonly partition: string; readonly epoch: number }
  /** Several servers: this server lost `partition`'s lease (deadline, refused renewal or fenced write). */
  | {
      readonly t: number;
      readonly type: 'partition.lost';
      readonly partition: string;
      readonly epoch: number;
      readonly reason: string;
    }
  /** Several servers: this server gave `partition` up on purpose (self-doubt); another takes it at once. */
  | {
      readonly t: number;
      readonly type: 'partition.handed-over';
      readonly partition: string;
      readonly reason: string;
    }
  /**
   * An operator action, with who asked (`by`, the API's authenticated identity) and why. `target`: the resource key
   * (`type:id`) for maintenance, the partition id for the HA switch, the fence budget's scope for a resume.
   */
  | {
      readonly t: number;
      readonly type: 'operator.action';
      readonly by: string;
      readonly action: OperatorAction;
      readonly target: string;
      readonly reason?: string;
    }
  /**
   * Observe-only (docs/observe-only.md): the power command the engine would have sent now and did not. `host` is the
   * controller's name (as in `power.action`), `resource`/`resourceType` the resource it is for.
   */
  | {
      readonly t: number;
      readonly type: 'would.power.action';
      readonly host: string;
      readonly resource: string;
      readonly resourceType: string;
      readonly action: string;
      readonly by: Requester;
    }
  | {
      readonly t: number;
      readonly type: 'alert';
      readonly level: AlertLevel;
      readonly code: AlertCode;
      readonly message: string;
      readonly resource?: string;
    };

/** The `type` strings of {@link HaEvent}. */
export type HaEventType = HaEvent['type'];

/** Alerts only. */
export type AlertEvent = Extract<HaEvent, { type: 'alert' }>;
