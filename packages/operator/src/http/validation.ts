import { z } from 'zod';
import { RESOURCE_STATES } from '@hafence/core';
import { hasControlChars } from '@hafence/core/internal';
import { ApiError } from './respond.js';

/**
 * Format characters (Unicode category Cf: bidi embeddings, overrides and isolates
 * U+202A–U+202E, U+2066–U+2069, marks U+200E/U+200F, zero-width characters…) and lone
 * surrogates (Cs): a reason shown in an audit, a log or the page must read as it was written.
 */
const FORMAT_OR_LONE_SURROGATE = /[\p{Cf}\p{Cs}]/u;

/** Whether `value` is plain text: no control character, no format character, no lone surrogate. */
export function isPlainText(value: string): boolean {
  return !hasControlChars(value) && !FORMAT_OR_LONE_SURROGATE.test(value);
}

/** Free text of a request (a reason, a scope, a partition id): at most 200 plain characters. */
const text = (min: number) =>
  z
    .string()
    .min(min)
    .max(200)
    .refine(isPlainText, 'must not contain control, format (bidi) characters or lone surrogates');

const reason = text(0).optional();

/** Body of `POST /api/v1/resources/:id/maintenance`. */
export const maintenanceBody = z.strictObject({ on: z.boolean(), reason });

/** Body of `POST /api/v1/partitions/:id/ha`. */
export const haBody = z.strictObject({ enabled: z.boolean(), reason });

/** Body of `POST /api/v1/fencing/resume`. */
export const resumeBody = z.strictObject({ scope: text(1), reason });

/** Query of `GET /api/v1/resources`. */
export const resourcesQuery = z.object({
  state: z.enum(RESOURCE_STATES).optional(),
  partition: text(1).optional(),
});

/** Query of `GET /api/v1/events`. */
export const eventsQuery = z.object({
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** `Last-Event-ID` of the SSE stream. */
export const lastEventId = z.coerce.number().int().min(0);

/**
 * Parses `value` with `schema`, or throws a 400 {@link ApiError} naming the first bad field
 * (`where` when the value as a whole is wrong, e.g. `body`).
 */
export function parseOr400<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const path = [...issue.path.map(String), ...keys.slice(0, 1)];
  const field = path.length > 0 ? path.join('.') : where;
  const message = keys.length > 0 ? 'unknown field' : issue.message;
  throw new ApiError(400, 'bad-request', `${field}: ${message}`, field);
}

/** The first value of each query parameter. */
export function queryObject(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of query) if (!(k in out)) out[k] = v;
  return out;
}
