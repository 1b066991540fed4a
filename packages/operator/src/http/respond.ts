import type { ServerResponse } from 'node:http';

/** The `code` of an error body (the contract's HTTP API). */
export type ApiErrorCode =
  | 'bad-request'
  | 'unauthorized'
  | 'not-found'
  | 'conflict'
  | 'too-many'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'method-not-allowed'
  | 'internal';

/** A request answered with an error status and the error body `{"error":{code,message,field?}}`. */
export class ApiError extends Error {
  /** Builds the error; `field` names the bad field of a 400. */
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Security headers of every answer (the status page loads nothing from elsewhere). */
const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'self'; frame-ancestors 'none'",
};

/** Answers `status` with `body` as JSON (`application/json; charset=utf-8`). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendText(res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers);
}

/** Answers `status` with a text body of `type`. */
export function sendText(
  res: ServerResponse,
  status: number,
  type: string,
  text: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    ...COMMON_HEADERS,
    ...headers,
    'content-type': type,
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** Answers the error body of `err`. */
export function sendError(res: ServerResponse, err: ApiError, headers: Record<string, string> = {}): void {
  const error = { code: err.code, message: err.message, ...(err.field !== undefined ? { field: err.field } : {}) };
  sendJson(res, err.status, { error }, headers);
}

/**
 * Answers `err` and closes the connection without reading the rest of the request (a 401
 * or a 413: the body is never read), so a client cannot hold the socket with it.
 */
export function refuse(res: ServerResponse, err: ApiError, headers: Record<string, string> = {}): void {
  res.shouldKeepAlive = false;
  const socket = res.socket;
  sendError(res, err, { ...headers, connection: 'close' });
  res.once('finish', () => socket?.destroySoon());
  socket?.setTimeout(2_000, () => socket.destroy());
}
