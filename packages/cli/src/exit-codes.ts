import { AuthError, ConfigError, ProtocolError, TimeoutError, UnreachableError } from '@hafence/core';

/**
 * Exit codes of every `hafence` command: 0 ok, 1 other failure, 2 usage or config, 3 auth refused, 4 timeout or
 * unreachable, 5 protocol.
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  auth: 3,
  unreachable: 4,
  protocol: 5,
} as const;

/** The exit code an error stands for: 2 config, 3 auth refused, 4 timeout or unreachable, 5 protocol, else 1. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError) return EXIT.usage;
  if (err instanceof AuthError) return EXIT.auth;
  if (err instanceof TimeoutError || err instanceof UnreachableError || (err as Error)?.name === 'TimeoutError')
    return EXIT.unreachable;
  if (err instanceof ProtocolError) return EXIT.protocol;
  return EXIT.failure;
}

/** The worst of several exit codes (the highest number; 0 only when all are 0). */
export function worstExitCode(codes: readonly number[]): number {
  return codes.reduce((a, b) => Math.max(a, b), 0);
}
