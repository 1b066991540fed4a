import { HaError } from '@hafence/core';

/** A store option is missing or malformed; `option` names it. */
export class StoreOptionsError extends HaError {
  /** Builds the error for `option`. */
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super('HAF7001', `store option '${option}': ${detail}`);
  }
}

/**
 * The database could not be opened or migrated. The message and the cause never carry
 * the password: both are rebuilt with every occurrence of it masked.
 */
export class StoreOpenError extends HaError {
  /** Builds the error for `database` (`sqlite` or `postgres`), masking `secrets` in the cause. */
  constructor(
    readonly database: 'sqlite' | 'postgres',
    cause: unknown,
    secrets: readonly string[] = [],
  ) {
    const inner = masked(cause, secrets);
    super('HAF7002', `cannot open the ${database} store: ${inner.message}`, { cause: inner });
  }
}

/** `cause` as a fresh Error whose message has each secret (and its URL encoding) masked, keeping `code`. */
function masked(cause: unknown, secrets: readonly string[]): Error {
  let text = cause instanceof Error ? cause.message : String(cause);
  for (const s of secrets.filter((x) => x !== '')) {
    for (const form of new Set([s, encodeURIComponent(s)])) text = text.split(form).join('***');
  }
  const error = new Error(text);
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code === 'string') Object.assign(error, { code });
  return error;
}
