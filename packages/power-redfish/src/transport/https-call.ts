import { request, type Agent } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { DriverError, ProtocolError, UnreachableError, abortReason } from '@hafence/core';
import { MAX_BODY_BYTES } from '../protocol/redfish-json.js';

/** Where one BMC's HTTPS service is, and the agent (TLS settings, kept-alive sockets) to reach it with. */
export interface HttpsEndpoint {
  /** Host name for errors. */
  readonly host: string;
  readonly address: string;
  readonly port: number;
  readonly agent: Agent;
}

/** One request. The body is JSON; headers never hold anything but protocol fields and credentials. */
export interface HttpsRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly signal: AbortSignal;
}

/** A complete answer: status, headers and the raw body. */
export interface HttpsAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'EPIPE',
  'ETIMEDOUT',
]);

/** Methods a BMC may receive twice without harm: the only ones sent again on a reused-socket reset. */
const IDEMPOTENT = new Set<HttpsRequest['method']>(['GET', 'DELETE']);

const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The typed error of a socket or TLS failure (the caller's abort is handled before). */
export function transportError(ep: HttpsEndpoint, err: unknown): Error {
  const code = String((err as NodeJS.ErrnoException)?.code ?? '');
  const where = `${ep.address}:${ep.port}`;
  if (UNREACHABLE.has(code)) return new UnreachableError(ep.host, where, code, { cause: err });
  if (UNTRUSTED.has(code)) {
    return new ProtocolError(
      ep.host,
      `TLS certificate of ${where} not trusted (${code}): give its CA (caFile) or, for a self-signed BMC ` +
        'certificate you accept, opt out with insecureTls',
      { cause: err },
    );
  }
  if (code.startsWith('HPE_') || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code === 'EPROTO')
    return new ProtocolError(ep.host, `bad HTTPS answer from ${where} (${code})`, { cause: err });
  return new DriverError('redfish', ep.host, `HTTPS request to ${where} failed (${code || 'error'})`, { cause: err });
}

function once(ep: HttpsEndpoint, req: HttpsRequest): Promise<{ answer: HttpsAnswer } | { retry: true }> {
  return new Promise((resolve, reject) => {
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body), 'utf8');
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'OData-Version': '4.0',
      ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {}),
      ...req.headers,
    };
    const fail = (err: unknown) => reject(req.signal.aborted ? abortReason(req.signal) : transportError(ep, err));
    const r = request(
      {
        host: ep.address,
        port: ep.port,
        method: req.method,
        path: req.path,
        headers,
        agent: ep.agent,
        signal: req.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY_BYTES) {
            res.destroy();
            reject(new ProtocolError(ep.host, `${req.method} ${req.path}: body larger than ${MAX_BODY_BYTES} bytes`));
          } else chunks.push(c);
        });
        res.on('error', fail);
        res.on('end', () => {
          if (!res.complete) return fail(Object.assign(new Error('answer cut short'), { code: 'HPE_CUT_SHORT' }));
          resolve({ answer: { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) } });
        });
      },
    );
    r.on('error', (err: NodeJS.ErrnoException) => {
      // Node's advice for kept-alive sockets: the server may close an idle socket just as a
      // request is written on it. Whether the request reached it is unknown: only a request
      // that may safely arrive twice is sent once more. A POST (a reset) fails instead: the
      // BMC may have acted on it, and sending it again could reboot the host twice. It is a
      // ProtocolError, not an UnreachableError: a driver chain must not send it through
      // another driver either; the power recipe's next attempt reads the state first.
      if (r.reusedSocket && err.code === 'ECONNRESET' && !req.signal.aborted) {
        if (IDEMPOTENT.has(req.method)) resolve({ retry: true });
        else
          reject(
            new ProtocolError(
              ep.host,
              `${ep.address}:${ep.port} reset the connection before answering ${req.method} ${req.path}: ` +
                'the BMC may have acted on it (not sent again; read the power state back)',
              { cause: err },
            ),
          );
      } else fail(err);
    });
    r.end(payload);
  });
}

/**
 * Sends one HTTPS request on the endpoint's agent and reads the whole answer (at most
 * {@link MAX_BODY_BYTES}). Socket and TLS failures are typed (`UnreachableError`,
 * `ProtocolError` for an untrusted certificate or a broken answer); the caller's abort
 * rejects with its reason and destroys the socket. A kept-alive socket the BMC closed as
 * the request was written is retried on a new one for `GET` and `DELETE` only; a `POST` or
 * `PATCH` whose fate is unknown is a `ProtocolError` (the caller reads the state back).
 */
export async function httpsCall(ep: HttpsEndpoint, req: HttpsRequest): Promise<HttpsAnswer> {
  if (req.signal.aborted) throw abortReason(req.signal);
  const first = await once(ep, req);
  if ('answer' in first) return first.answer;
  const second = await once(ep, req);
  if ('answer' in second) return second.answer;
  throw new UnreachableError(ep.host, `${ep.address}:${ep.port}`, 'connection reset twice');
}
