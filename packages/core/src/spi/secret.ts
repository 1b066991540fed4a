const REDACTED = '[redacted]';
const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * A credential that never prints itself: `toString`, `JSON.stringify` and
 * `util.inspect` all give `[redacted]`. Read the value with {@link Secret.reveal}
 * at the one place that needs it (a socket, a child's stdin or environment).
 */
export class Secret {
  readonly #value: string;

  /** Wraps a secret value. */
  constructor(value: string) {
    this.#value = value;
  }

  /** The secret itself. Never log or format the result. */
  reveal(): string {
    return this.#value;
  }

  /** Always `[redacted]`. */
  toString(): string {
    return REDACTED;
  }

  /** Always `[redacted]`. */
  toJSON(): string {
    return REDACTED;
  }

  /** Always `[redacted]` (node's `util.inspect`). */
  [inspectSymbol](): string {
    return REDACTED;
  }
}
