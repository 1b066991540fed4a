import type { ChassisCommand, ChassisPower, PowerTarget } from '@hafence/core';
import type { ProcessResult } from '../process/run-process.js';

/** The operations a script driver runs. */
export type ScriptOp = 'status' | ChassisCommand | 'identify' | 'validate';

/** One operation to turn into a process run. */
export interface ScriptRequest {
  readonly op: ScriptOp;
  readonly target: PowerTarget;
  /** `identify` only: how long to blink. */
  readonly seconds?: number;
  /** The caller's deadline (for tools with their own retry timers). */
  readonly timeoutMs: number;
}

/** What to execute; secrets go in `env` or `stdin`, never in `args`. */
export interface ScriptInvocation {
  readonly command: string;
  readonly args: readonly string[];
  /** Added to the minimal environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly stdin?: string;
}

/**
 * A family of power scripts (ipmitool, fence agents, custom executables): builds the
 * invocation of an operation and turns the process result into a state or a typed error.
 */
export interface ScriptPreset {
  /** Short name for errors and logs, e.g. `ipmitool`. */
  readonly name: string;
  /** Builds the run; throws `UnsupportedOperationError` or `ConfigError` before anything starts. */
  prepare(request: ScriptRequest, signal: AbortSignal): Promise<ScriptInvocation>;
  /** The chassis state (for `status`), nothing for other operations, or a typed error. */
  interpret(request: ScriptRequest, result: ProcessResult): ChassisPower | undefined;
}
