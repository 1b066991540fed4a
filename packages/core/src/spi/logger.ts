/** Structured fields attached to a log line. Never put a secret here. */
export type LogFields = Record<string, unknown>;

/** Minimal structured logger; the default discards everything. */
export interface Logger {
  /** Debug detail. */
  debug(message: string, fields?: LogFields): void;
  /** Normal operation. */
  info(message: string, fields?: LogFields): void;
  /** Something unexpected that the service handled. */
  warn(message: string, fields?: LogFields): void;
  /** Something failed. */
  error(message: string, fields?: LogFields): void;
}
