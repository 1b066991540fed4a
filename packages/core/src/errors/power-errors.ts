import { HaError } from './ha-error.js';

/** The controller refused the credentials. */
export class AuthError extends HaError {
  /** Builds the error for `host` reached through `driver`. */
  constructor(
    readonly host: string,
    readonly driver: string,
    detail = 'credentials refused',
    options?: { cause?: unknown },
  ) {
    super('HAF1001', `authentication failed for ${host} (${driver}): ${detail}`, options);
  }
}

/** An operation did not finish within its deadline and was cancelled. */
export class TimeoutError extends HaError {
  /** Builds the error for operation `op` after `ms` milliseconds. */
  constructor(
    readonly op: string,
    readonly ms: number,
    readonly host?: string,
    options?: { cause?: unknown },
  ) {
    super('HAF1002', `${op}${host ? ` on ${host}` : ''} timed out after ${ms} ms`, options);
  }
}

/** The controller could not be reached at all (no route, refused, nothing listening). */
export class UnreachableError extends HaError {
  /** Builds the error for `host` at `address`. */
  constructor(
    readonly host: string,
    readonly address: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('HAF1003', `${host} unreachable at ${address}: ${detail}`, options);
  }
}

/** The controller answered something the driver cannot accept. */
export class ProtocolError extends HaError {
  /** Builds the error; `detail` says what was wrong with the answer. */
  constructor(
    readonly host: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('HAF1004', `protocol error from ${host}: ${detail}`, options);
  }
}

/** The driver (or controller) does not support the operation. */
export class UnsupportedOperationError extends HaError {
  /** Builds the error for operation `op` of `driver`. */
  constructor(
    readonly op: string,
    readonly driver: string,
    options?: { cause?: unknown },
  ) {
    super('HAF1005', `${driver} does not support ${op}`, options);
  }
}

/** Any other driver failure (a script's non-zero exit, a missing binary…). */
export class DriverError extends HaError {
  /** Builds the error for `driver` on `host`. */
  constructor(
    readonly driver: string,
    readonly host: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('HAF1006', `${driver} failed on ${host}: ${detail}`, options);
  }
}
