import { HaError } from '@hafence/core';

/** The agent could not write its heartbeat (read-only mount, full disk, I/O error). */
export class HeartbeatWriteError extends HaError {
  /** Builds the error for `path` with the system error code (`EROFS`, `ENOSPC`…). */
  constructor(
    readonly path: string,
    readonly errno: string,
    options?: { cause?: unknown },
  ) {
    super('HAF5101', `heartbeat write to ${path} failed (${errno})`, options);
  }
}

/** A heartbeat file did not hold a valid record. */
export class HeartbeatFormatError extends HaError {
  /** Builds the error for `path`; `detail` says what was wrong. */
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super('HAF5102', `invalid heartbeat in ${path}: ${detail}`);
  }
}

/** The agent's options are invalid; it was not started. */
export class AgentConfigError extends HaError {
  /** Builds the error naming the option and the rule it broke. */
  constructor(
    readonly option: string,
    rule: string,
  ) {
    super('HAF5103', `agent option ${option}: ${rule}`);
  }
}

/**
 * The agent refused an arm/disarm request older than one it has applied (docs/behaviour.md#several-management-servers).
 */
export class ArmRefusedError extends HaError {
  /** `armGen` was offered; the agent last applied `applied`. */
  constructor(
    readonly armGen: number,
    readonly applied: number,
  ) {
    super('HAF5105', `arm request with armGen ${armGen} refused: the agent has applied armGen ${applied}`);
  }
}

/** The system error code of `err` (`ENOSPC`…), or `EUNKNOWN`. */
export function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

/**
 * System errors of this host's own resources (docs/behaviour.md#kvm-hosts): out of descriptors, memory or
 * local disk space. They say nothing about the network or the shared storage, so they
 * never count as evidence of isolation.
 */
export const LOCAL_RESOURCE_ERRNOS: readonly string[] = ['EMFILE', 'ENFILE', 'ENOMEM', 'ENOSPC'];

/** `errno` is one of {@link LOCAL_RESOURCE_ERRNOS}. */
export function isLocalResourceError(errno: string): boolean {
  return LOCAL_RESOURCE_ERRNOS.includes(errno);
}

/** The first system error code along `err`'s cause chain (`fetch failed` → `ECONNREFUSED`), or `EUNKNOWN`. */
export function errnoInChain(err: unknown): string {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = errnoOf(e);
    if (/^E[A-Z]+$/.test(code) && code !== 'EUNKNOWN') return code;
  }
  return 'EUNKNOWN';
}
