import { ProtocolError } from '@hafence/core';

/** A JSON object as parsed from a BMC's answer: nothing about its fields is trusted yet. */
export type JsonObject = Readonly<Record<string, unknown>>;

/** The largest response body the driver reads (a ComputerSystem is a few KiB). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** True for a plain JSON object (not an array, not null). */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Decodes a BMC's response body: strict UTF-8, at most {@link MAX_BODY_BYTES}, JSON, and an
 * object at the top. Anything else is a {@link ProtocolError} naming `what` (never the body:
 * a BMC may echo what it was sent).
 */
export function parseRedfishJson(body: Uint8Array, host: string, what: string): JsonObject {
  if (body.length > MAX_BODY_BYTES) throw new ProtocolError(host, `${what}: body larger than ${MAX_BODY_BYTES} bytes`);
  let text: string;
  try {
    text = utf8.decode(body);
  } catch (err) {
    throw new ProtocolError(host, `${what}: body is not UTF-8`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new ProtocolError(host, `${what}: body is not JSON`, { cause: err });
  }
  if (!isObject(doc)) throw new ProtocolError(host, `${what}: body is not a JSON object`);
  return doc;
}
