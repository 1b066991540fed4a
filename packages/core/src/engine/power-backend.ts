import type { Observable } from 'rxjs';
import type { ChassisCommand, ChassisPower, PowerState } from '../spi/power-driver.js';
import type { Requester } from '../events/ha-event.js';

/** Options of one power call made by the engine. */
export interface PowerCallRequest {
  readonly by: Requester;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /** Called when the call leaves the host's queue for the controller, with its dispatch sequence number. */
  readonly onDispatch?: (seq: number) => void;
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
  status(host: string, request: PowerCallRequest): Promise<ChassisPower>;
  command(host: string, command: ChassisCommand, request: PowerCallRequest): Promise<void>;
  readonly transitions$?: Observable<PowerTransition>;
}
