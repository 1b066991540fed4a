/**
 * Base of every hafence error: a stable `code` (also in the message, `[HAF1001]`),
 * structured fields, and the cause chain.
 */
export class HaError extends Error {
  /** Stable code, e.g. `HAF1001`. */
  readonly code: string;

  /** Builds an error whose message starts with its code. */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(`[${code}] ${message}`, options);
    this.code = code;
    this.name = new.target.name;
  }
}
