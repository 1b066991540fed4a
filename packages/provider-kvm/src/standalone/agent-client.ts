import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import {
  AuthError,
  ProtocolError,
  TimeoutError,
  UnreachableError,
  systemClock,
  type Clock,
  type Secret,
} from '@hafence/core';
import { reusableTimer } from '@hafence/core/internal';

/** Largest answer read from an agent by default (bytes); a longer one is a `ProtocolError`. */
export const MAX_AGENT_ANSWER = 1024 * 1024;

/**
 * Longest time a connection to an agent is kept idle for the next request (ms); the agent keeps one open longer
 * (its `keepAliveTimeout`, 65 s), so the client closes idle connections, never the agent under a request.
 */
export const AGENT_CLIENT_MAX_IDLE_MS = 60_000;

/** Default idle time of a connection to an agent when no check interval is known (ms). */
export const AGENT_CLIENT_DEFAULT_IDLE_MS = 20_000;

/**
 * The idle time of connections to agents for checks every `intervalMs`: twice the interval (so the next check finds
 * the connection open), at least 15 s, at most {@link AGENT_CLIENT_MAX_IDLE_MS}.
 *
 * @example
 * agentClientIdleMs(10_000); // 20_000: a health check every 10 s reuses one connection
 */
export function agentClientIdleMs(intervalMs: number): number {
  return Math.min(Math.max(2 * intervalMs, 15_000), AGENT_CLIENT_MAX_IDLE_MS);
}

/** Keep-alive connection pools by protocol and idle time (shared by every port of the process). */
const pools = new Map<string, HttpAgent>();

function poolOf(protocol: string, idleMs: number): HttpAgent {
  const key = `${protocol}|${idleMs}`;
  let pool = pools.get(key);
  if (!pool) {
    // A handful of sockets per agent at most stay idle; idle ones are unref'd (they never keep a process alive).
    const options = { keepAlive: true, timeout: idleMs, maxFreeSockets: 4, scheduling: 'lifo' as const };
    pool = protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
    pools.set(key, pool);
  }
  return pool;
}

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
  /**
   * How long the connection stays open for the next request (default {@link AGENT_CLIENT_DEFAULT_IDLE_MS}; see
   * {@link agentClientIdleMs}); at most {@link AGENT_CLIENT_MAX_IDLE_MS}.
   */
  readonly keepAliveMs?: number;
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
  // On the system clock an entry of its shared timer queue, not a runtime timer per request.
  const timer = reusableTimer(clock, () => {
    timedOut = true;
    controller.abort();
  });
  timer.arm(options.timeoutMs);
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (options.signal?.aborted) controller.abort();
    const url = new URL(path, baseUrl);
    let answer: { status: number; text: string };
    try {
      answer = await exchange(host, url, token, options, controller.signal);
    } catch (err) {
      // The keep-alive race: the agent closed an idle connection as this request went out on it. A GET changes
      // nothing: it is sent once more, on a new connection.
      if (!(err instanceof StaleConnection) || options.method !== 'GET' || controller.signal.aborted)
        throw err instanceof StaleConnection ? err.cause : err;
      answer = await exchange(host, url, token, options, controller.signal, true);
    }
    const { status, text } = answer;
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
    timer.cancel();
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** A reused connection failed before any answer: the agent had closed it (the error is the cause). */
class StaleConnection extends Error {}

/** One HTTP(S) exchange; the answer is read up to the cap. */
function exchange(
  host: string,
  url: URL,
  token: Secret,
  options: AgentRequestOptions,
  signal: AbortSignal,
  fresh = false,
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
    const idleMs = Math.min(options.keepAliveMs ?? AGENT_CLIENT_DEFAULT_IDLE_MS, AGENT_CLIENT_MAX_IDLE_MS);
    // A retry after a stale connection opens a new one (a pooled socket could be stale as well).
    const agent = fresh ? false : poolOf(url.protocol, idleMs);
    const common = { method: options.method, headers, signal, agent };
    let answered = false;
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
    req.once('response', () => (answered = true));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(!answered && staleSocket(req, err) ? new StaleConnection('stale connection', { cause: err }) : err),
    );
    req.end(body);
  });
}

/** Whether `err` is a reused keep-alive connection closed by the peer before it answered. */
function staleSocket(req: ClientRequest, err: NodeJS.ErrnoException): boolean {
  return req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
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
