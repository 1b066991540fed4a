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
  /** Builds the error for `database` (`sqlite` or `postgres`) at `where` (a file), masking `secrets` in the cause. */
  constructor(
    readonly database: 'sqlite' | 'postgres',
    cause: unknown,
    secrets: readonly string[] = [],
    where?: string,
  ) {
    const inner = masked(cause, secrets);
    const at = where === undefined ? '' : ` ${JSON.stringify(where.length > 200 ? `${where.slice(0, 200)}…` : where)}`;
    super('HAF7002', `cannot open the ${database} store${at}: ${inner.message}`, { cause: inner });
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

/** typeorm's logger, silenced: hafence reports through its own errors (stdout carries the event stream). */
export const SILENT_LOGGER = {
  logQuery: (): void => undefined,
  logQueryError: (): void => undefined,
  logQuerySlow: (): void => undefined,
  logSchemaBuild: (): void => undefined,
  logMigration: (): void => undefined,
  log: (): void => undefined,
};
