import type { Secret } from './secret.js';

/** Power state of a host as hafence tracks it (docs/behaviour.md#power). */
export type PowerState = 'ON' | 'OFF' | 'UNKNOWN';

/** What a driver can read from a chassis: the two known states. */
export type ChassisPower = 'ON' | 'OFF';

/** Commands that change chassis power. `off`, `soft`, `cycle` and `reset` stop a host. */
export type ChassisCommand = 'on' | 'off' | 'soft' | 'cycle' | 'reset';

/** Every operation of the power service (docs/behaviour.md#power). */
export type PowerOperation = 'status' | ChassisCommand | 'identify' | 'validate';

/** Commands that stop a host and therefore count against the fence budget. */
export const STOP_COMMANDS: ReadonlySet<ChassisCommand> = new Set(['off', 'soft', 'cycle', 'reset']);

/** Where a management controller is and how to log in to it. */
export interface PowerTarget {
  /** The host this controller belongs to (for errors and events). */
  readonly host: string;
  /** Controller address (IP or name). */
  readonly address: string;
  /** UDP/TCP port; the driver's default when absent. */
  readonly port?: number;
  readonly username?: string;
  readonly password?: Secret;
  /** Driver-specific options (cipher suite, preset, agent…). Never secrets. */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** Per-call options: every driver call can be cancelled and has a deadline. */
export interface PowerCallOptions {
  /** Aborted when the caller gives up; the driver must stop its socket or process. */
  readonly signal: AbortSignal;
  /** The caller's deadline for this call, for drivers that pace retries. */
  readonly timeoutMs: number;
}

/**
 * A plugin that talks to a management controller (IPMI, a script, a fence agent…).
 * Methods reject with the typed errors of `@hafence/core` (`AuthError`,
 * `TimeoutError`, `UnreachableError`, `ProtocolError`, `UnsupportedOperationError`,
 * `DriverError`).
 */
export interface PowerDriver {
  /** Registry name, e.g. `ipmi` or `script`. */
  readonly name: string;
  /** Reads chassis power. */
  status(target: PowerTarget, options: PowerCallOptions): Promise<ChassisPower>;
  /** Sends a chassis command; resolves when the controller acknowledged it. */
  control(target: PowerTarget, command: ChassisCommand, options: PowerCallOptions): Promise<void>;
  /** Blinks the chassis identify light for `seconds` (0 turns it off). */
  identify(target: PowerTarget, seconds: number, options: PowerCallOptions): Promise<void>;
  /** Proves address and credentials work without changing power. */
  validate(target: PowerTarget, options: PowerCallOptions): Promise<void>;
  /** Releases sockets, sessions and processes. */
  close?(): Promise<void>;
}

/** How a resource reaches its controller: the driver chain and the target. */
export interface PowerBinding {
  /** Driver names in order; later ones are the fallback chain. Global default when absent. */
  readonly drivers?: readonly string[];
  readonly target: PowerTarget;
  /** Per-host timeout of one power operation, overriding the global one. */
  readonly timeoutMs?: number;
}
