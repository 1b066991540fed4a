import {
  AuthError,
  DriverError,
  TimeoutError,
  UnreachableError,
  UnsupportedOperationError,
} from '../errors/power-errors.js';
import { redact } from './redact.js';

/** Errors after which the next driver of the chain is tried (an AuthError too; it wins the report). */
export function worthFallback(err: unknown): boolean {
  return (
    err instanceof UnreachableError ||
    err instanceof TimeoutError ||
    err instanceof DriverError ||
    err instanceof UnsupportedOperationError ||
    err instanceof AuthError
  );
}

// Defence in depth: a driver's message must never carry the password out of the service.
/** The error as an `Error` whose message and stack no longer contain any of `secrets`. */
export function scrub(err: unknown, secrets: Parameters<typeof redact>[1]): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const message = redact(e.message, secrets);
  if (message !== e.message) {
    e.message = message;
    if (e.stack) e.stack = redact(e.stack, secrets);
  }
  return e;
}

/** A copy of `value` without its `undefined` fields. */
export function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
