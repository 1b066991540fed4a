import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  AuthError,
  ProtocolError,
  TimeoutError,
  UnreachableError,
  systemClock,
  type Clock,
  type Secret,
} from '@hafence/core';

/** Largest answer read from an agent by default (bytes); a longer one is a `ProtocolError`. */
export const MAX_AGENT_ANSWER = 1024 * 1024;

/**
 * TLS settings of requests to agents at `https://` URLs. The agent's certificate is always
 * verified (against `ca`, or the system's CAs without it); nothing ever turns that off.
 */
export interface AgentClientTls {
  /** PEM certificate(s) of the CA that signed the agents' certificates. */
  readonly ca?: string;
  /** PEM client certificate, presented to agents that require one (with `key`). */
  readonly cert?: string;
  /** The client certificate's PEM private key. */
  readonly key?: Secret;
}

/** Options of one request to a hafence agent. */
export interface AgentRequestOptions {
  readonly method: 'GET' | 'POST';
  readonly body?: unknown;
  /** Reply timeout on `clock`: the request is aborted for real when it fires. */
  readonly timeoutMs: number;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
  /** TLS settings used for `https://` URLs. */
  readonly tls?: AgentClientTls;
  /** Largest answer read (default {@link MAX_AGENT_ANSWER}): a hostile agent cannot stream forever. */
  readonly maxAnswerBytes?: number;
}

/** TLS error codes of a certificate the client could not verify. */
const CERT_UNVERIFIED = /CERT|ISSUER|SIGNATURE|ALTNAME/;

/**
 * Sends one authenticated JSON request to an agent at `baseUrl` (`http://` or `https://`)
 * and returns its JSON answer. Failures are typed: `TimeoutError` (no reply in time),
 * `UnreachableError`, `AuthError` (token refused or not allowed, the agent's certificate
 * not verified, or our client certificate refused), `ProtocolError` (any other answer,
 * or one longer than `maxAnswerBytes`). The token is sent in a header only, never in a
 * URL, message or log. An `https://` agent is never asked over plaintext.
 */
export async function agentRequest<T>(
  host: string,
  baseUrl: string,
  path: string,
  token: Secret,
  options: AgentRequestOptions,
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const controller = new AbortController();
  let timedOut = false;
  const timer = clock.setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (options.signal?.aborted) controller.abort();
    const { status, text } = await exchange(host, new URL(path, baseUrl), token, options, controller.signal);
    if (status === 401) throw new AuthError(host, 'hafence-agent', 'token refused');
    if (status === 403) throw new AuthError(host, 'hafence-agent', `token not allowed for ${path}`);
    if (status < 200 || status > 299) throw new ProtocolError(host, `HTTP ${status} from ${path}`);
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new ProtocolError(host, `answer of ${path} is not JSON`, { cause: err });
    }
  } catch (err) {
    if (err instanceof AuthError || err instanceof ProtocolError) throw err;
    if (timedOut) throw new TimeoutError(`agent ${path}`, options.timeoutMs, host);
    if (options.signal?.aborted)
      throw options.signal.reason instanceof Error
        ? options.signal.reason
        : new TimeoutError(`agent ${path}`, options.timeoutMs, host);
    const shown = withoutUserinfo(baseUrl);
    throw tlsError(host, shown, err) ?? new UnreachableError(host, shown, (err as Error).message, { cause: err });
  } finally {
    clock.clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** One HTTP(S) exchange; the answer is read up to the cap. */
function exchange(
  host: string,
  url: URL,
  token: Secret,
  options: AgentRequestOptions,
  signal: AbortSignal,
): Promise<{ status: number; text: string }> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string | number> = {
    authorization: `Bearer ${token.reveal()}`,
    'content-type': 'application/json',
  };
  if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
  const max = options.maxAnswerBytes ?? MAX_AGENT_ANSWER;
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage) => {
      const declared = Number(res.headers['content-length'] ?? 0);
      if (declared > max) {
        reject(new ProtocolError(host, `answer of ${url.pathname} declares ${declared} bytes, over ${max}`)); // before destroy(): it rejects too
        res.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) {
          reject(new ProtocolError(host, `answer of ${url.pathname} is longer than ${max} bytes`)); // before destroy(): it rejects too
          res.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('answer cut short')));
    };
    const common = { method: options.method, headers, signal };
    const req =
      url.protocol === 'https:'
        ? httpsRequest(
            url,
            {
              ...common,
              ca: options.tls?.ca,
              cert: options.tls?.cert,
              key: options.tls?.key?.reveal(),
              rejectUnauthorized: true,
              minVersion: 'TLSv1.2',
            },
            onResponse,
          )
        : httpRequest(url, common, onResponse);
    req.on('error', reject);
    req.end(body);
  });
}

/** `baseUrl` as an error may show it: a `user:password@` inside is masked (the CLI refuses one; a caller may not). */
function withoutUserinfo(baseUrl: string): string {
  return baseUrl.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)?[^/?#]*@/i,
    (_all, scheme: string | undefined) => `${scheme ?? ''}[redacted]@`,
  );
}

/** A TLS failure as a typed error naming the host, or undefined for any other failure. */
function tlsError(host: string, baseUrl: string, err: unknown): AuthError | ProtocolError | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return undefined;
  if (CERT_UNVERIFIED.test(code) && !code.startsWith('ERR_SSL_')) {
    return new AuthError(host, 'hafence-agent', `TLS: the certificate of ${baseUrl} was not verified (${code})`, {
      cause: err,
    });
  }
  if (/^ERR_SSL_.*ALERT/.test(code)) {
    return new AuthError(
      host,
      'hafence-agent',
      `TLS: ${baseUrl} refused the handshake (${code}: is a client certificate required, or not trusted?)`,
      { cause: err },
    );
  }
  if (code.startsWith('ERR_SSL_'))
    return new ProtocolError(host, `TLS handshake with ${baseUrl} failed (${code})`, { cause: err });
  return undefined;
}
