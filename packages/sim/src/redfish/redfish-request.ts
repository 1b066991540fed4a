/** A request as the simulated service sees it (the socket layer has read and size-checked the body). */
export interface RedfishRequest {
  readonly method: string;
  /** Path without query, trailing slash removed (`/redfish/v1`). */
  readonly path: string;
  readonly authorization?: string;
  readonly authToken?: string;
  readonly ifMatch?: string;
  /** The raw body (empty when none). */
  readonly body: Buffer;
}

/** The result of reading a JSON request body. */
export type JsonBody = { readonly ok: true; readonly value: unknown } | { readonly ok: false };

/** Parses a JSON body; an empty body is an empty object's absence (`undefined`). */
export function parseJsonBody(body: Buffer): JsonBody {
  const text = body.toString('utf8').trim();
  if (text === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** True for a plain JSON object. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The path part of a request target, without query or fragment and without a trailing slash. */
export function normalisePath(url: string): string {
  const path = url.split(/[?#]/, 1)[0] ?? '';
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}
