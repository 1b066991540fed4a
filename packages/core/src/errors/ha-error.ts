/** The registry symbol every hafence error carries (shared by every copy of `@hafence/core`). */
const HA_ERROR_BRAND = Symbol.for('hafence.error');

/** The registry symbol of error class `name`: `Symbol.for('hafence.error.<name>')`. */
const classBrand = (name: string): symbol => Symbol.for(`hafence.error.${name}`);

/** Marks `error` with the hafence brand and the brand of each class from `leaf` up to Error (non-enumerable). */
function brand(error: Error, leaf: Function): void {
  Object.defineProperty(error, HA_ERROR_BRAND, { value: true });
  const isBrandable = (c: Function | null): c is Function => !!c && c !== Error && c !== Function.prototype;
  for (let c: Function | null = leaf; isBrandable(c); c = Object.getPrototypeOf(c) as Function | null) {
    Object.defineProperty(error, classBrand(c.name), { value: true });
  }
}

/**
 * Base of every hafence error: a stable `code` (also in the message, `[HAF1001]`),
 * structured fields, and the cause chain.
 *
 * `instanceof` works across two installed copies of `@hafence/core` (a plugin bundling its
 * own, say): each error carries `Symbol.for` brands of its class and every ancestor class,
 * and `instanceof` on `HaError` or any subclass also accepts a value branded with that
 * class's name. Subclasses still discriminate: a `TimeoutError` is no `AuthError`. A third
 * party's subclass is branded by its class name too, so give it a name of its own.
 */
export class HaError extends Error {
  /** Stable code, e.g. `HAF1001`. */
  readonly code: string;

  /** Builds an error whose message starts with its code. */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(`[${code}] ${message}`, options);
    this.code = code;
    this.name = new.target.name;
    brand(this, new.target);
  }

  /**
   * `value instanceof C` for `HaError` and each subclass `C`: true when `value`'s prototype
   * chain holds `C`, or when `value` carries the brand of a class named like `C` (an
   * error made by another copy of core or of the plugin that defines `C`).
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (typeof value !== 'object' || value === null) return false;
    const branded = value as Record<symbol, unknown>;
    return branded[HA_ERROR_BRAND] === true && branded[classBrand(this.name)] === true;
  }
}
