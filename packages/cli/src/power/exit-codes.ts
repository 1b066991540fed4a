import { AuthError, ConfigError, ProtocolError, TimeoutError, UnreachableError } from '@hafence/core';

/** Exit codes of `hafence power` (issue 3). */
export const POWER_EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  auth: 3,
  unreachable: 4,
  protocol: 5,
} as const;

/** The exit code an error stands for: 2 config, 3 auth refused, 4 timeout or unreachable, 5 protocol, else 1. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError) return POWER_EXIT.usage;
  if (err instanceof AuthError) return POWER_EXIT.auth;
  if (err instanceof TimeoutError || err instanceof UnreachableError || (err as Error)?.name === 'TimeoutError') return POWER_EXIT.unreachable;
  if (err instanceof ProtocolError) return POWER_EXIT.protocol;
  return POWER_EXIT.failure;
}

/** The worst of several exit codes (the highest number; 0 only when all are 0). */
export function worstExitCode(codes: readonly number[]): number {
  return codes.reduce((a, b) => Math.max(a, b), 0);
}
