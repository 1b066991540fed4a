import type { IncomingMessage } from 'node:http';
import { ApiError } from './respond.js';

/** The largest request body read (bytes); a larger one is answered 413. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * Reads a JSON request body: `application/json` only (415 otherwise, before reading), at most
 * {@link MAX_BODY_BYTES} (413, checked on the declared length before reading and on the
 * bytes read), valid UTF-8 JSON (400 naming `body`). An empty body is `{}`.
 */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const declared = req.headers['content-length'];
  if (declared !== undefined && !(Number(declared) <= MAX_BODY_BYTES)) throw tooLarge();
  const hasBody = (declared !== undefined && Number(declared) > 0) || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && type !== 'application/json') throw notJson();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks))) as unknown;
  } catch {
    throw new ApiError(400, 'bad-request', 'the body is not valid JSON', 'body');
  }
}

function notJson(): ApiError {
  return new ApiError(415, 'unsupported-media-type', 'the body must be JSON (content-type: application/json)');
}

function tooLarge(): ApiError {
  return new ApiError(413, 'payload-too-large', `the body is larger than ${MAX_BODY_BYTES} bytes`);
}
