import type { Observable } from 'rxjs';
import type { ChassisCommand, ChassisPower, PowerBinding, PowerState } from '../spi/power-driver.js';
import type { ResourceSpec } from '../spi/resource.js';
import type { HaEvent, Requester } from '../events/ha-event.js';

/** Options of one power call made by the engine. */
export interface PowerCallRequest {
  readonly by: Requester;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /** Called when the call leaves the host's queue for the controller, with its dispatch sequence number. */
  readonly onDispatch?: (seq: number) => void;
  /** Checked right before the call leaves the host's queue: a reason refuses it there, unsent. */
  readonly admit?: () => string | undefined;
}

/** A power transition seen by the power service, with who caused the read. */
export interface PowerTransition {
  readonly host: string;
  readonly from: PowerState;
  readonly to: PowerState;
  readonly by: Requester;
  /** Dispatch sequence number of the read that saw it: later than a command's means after it. */
  readonly seq?: number;
}

/**
 * What the HA engine needs from the power management service: fresh reads, commands,
 * and the transitions its sync daemon observes. `PowerManagementService` implements it.
 */
export interface PowerBackend {
  has(host: string): boolean;
  /** The controller's power state as last read (`UNKNOWN` when it does not answer); reach scores use it. */
  state?(host: string): PowerState;
  /**
   * Adds a controller; registering the same binding again changes nothing. The engine
   * calls it from `HaService.addResource({ power })` with the binding's `target.host`.
   * A backend without it only serves hosts its owner registered.
   */
  register?(host: string, binding: PowerBinding): void;
  /** Forgets a controller (the engine calls it when its resource is removed). */
  unregister?(host: string): void;
  /**
   * For a resource judged not eligible at `judgedAt`: undefined when the host's power had been read by then (the
   * verdict stands), else a promise that resolves (never rejects) once its first read has ended — at once when it
   * ended after `judgedAt`; otherwise the host is read now. `PowerManagementService.firstRead` implements it.
   */
  firstRead?(host: string, judgedAt?: number): Promise<void> | undefined;
  status(host: string, request: PowerCallRequest): Promise<ChassisPower>;
  command(host: string, command: ChassisCommand, request: PowerCallRequest): Promise<void>;
  readonly transitions$?: Observable<PowerTransition>;
  /** Starts the sync daemon (called by a service that owns the backend: `ownPower`). */
  startSync?(): void;
  /** Stops the sync daemon. */
  stopSync?(): void;
  /** Cancels running operations and closes the drivers. */
  close?(): Promise<void>;
  /** Every power event, joined into `HaService.events$` with `joinPowerEvents`. */
  readonly events$?: Observable<HaEvent>;
}

/**
 * The power service's name of a resource's controller: its binding's `target.host`, or
 * none without a binding. The engine reaches a resource's power only through its own
 * binding, so two resources (of two types) with the same id never share a controller.
 */
export function powerHostOf(spec: ResourceSpec): string | undefined {
  return spec.power?.target.host;
}
