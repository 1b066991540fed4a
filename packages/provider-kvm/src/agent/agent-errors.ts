import { HaError } from '@hafence/core';

/** The agent could not write its heartbeat (read-only mount, full disk, I/O error). */
export class HeartbeatWriteError extends HaError {
  /** Builds the error for `path` with the system error code (`EROFS`, `ENOSPC`…). */
  constructor(readonly path: string, readonly errno: string, options?: { cause?: unknown }) {
    super('HAF5101', `heartbeat write to ${path} failed (${errno})`, options);
  }
}

/** A heartbeat file did not hold a valid record. */
export class HeartbeatFormatError extends HaError {
  /** Builds the error for `path`; `detail` says what was wrong. */
  constructor(readonly path: string, detail: string) {
    super('HAF5102', `invalid heartbeat in ${path}: ${detail}`);
  }
}

/** The agent's options are invalid; it was not started. */
export class AgentConfigError extends HaError {
  /** Builds the error naming the option and the rule it broke. */
  constructor(readonly option: string, rule: string) {
    super('HAF5103', `agent option ${option}: ${rule}`);
  }
}

/** The agent refused an arm/disarm request older than one it has applied (SPEC §7). */
export class ArmRefusedError extends HaError {
  /** `armGen` was offered; the agent last applied `applied`. */
  constructor(readonly armGen: number, readonly applied: number) {
    super('HAF5105', `arm request with armGen ${armGen} refused: the agent has applied armGen ${applied}`);
  }
}

/** The system error code of `err` (`ENOSPC`…), or `EUNKNOWN`. */
export function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}
