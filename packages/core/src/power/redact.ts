import type { Secret } from '../spi/secret.js';

const REDACTED = '[redacted]';

/**
 * Removes every secret value from `text` (an error message, stderr excerpt or log
 * line). Defence in depth: drivers never put secrets in messages, and this makes sure.
 */
export function redact(text: string, secrets: ReadonlyArray<Secret | string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    const value = typeof s === 'string' ? s : s?.reveal();
    if (value && value.length > 0) out = out.split(value).join(REDACTED);
  }
  return out;
}

/** The message of any thrown value, with `secrets` removed. */
export function redactedMessage(err: unknown, secrets: ReadonlyArray<Secret | string | undefined>): string {
  const message = err instanceof Error ? err.message : String(err);
  return redact(message, secrets);
}
