import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `250ms`, `10s`, `5m`, `2h` (or a number of milliseconds); NaN when malformed. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(value);
  const unit = match?.[2] === undefined ? undefined : UNITS[match[2]];
  return match && unit !== undefined ? Number(match[1]) * unit : Number.NaN;
}

/** A zod duration: milliseconds as a number, or a string with an `ms`/`s`/`m`/`h` suffix. */
export const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (!Number.isFinite(ms) || ms < 0) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a non-negative duration like 500ms, 10s, 5m, 2h or a number of ms',
    });
    return z.NEVER;
  }
  return Math.round(ms);
});
