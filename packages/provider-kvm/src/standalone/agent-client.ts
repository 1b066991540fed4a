import { createHash } from 'node:crypto';
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
import type { WireAnswer } from './agent-answer.js';
import { StaleConnection, wireExchange } from './agent-wire.js';

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

/** A number per distinct TLS settings (by value): connections are kept per agent and per settings. */
const tlsByObject = new WeakMap<AgentClientTls, number>();
const tlsByDigest = new Map<string, number>();

function tlsKeyOf(tls: AgentClientTls | undefined): number {
  if (tls === undefined) return 0;
  let key = tlsByObject.get(tls);
  if (key === undefined) {
    // Equal settings in another object share the connections: a digest of the values, not the values, is kept.
    const digest = createHash('sha256')
      .update(`${tls.ca ?? ''}\0${tls.cert ?? ''}\0${tls.key?.reveal() ?? ''}`)
      .digest('hex');
    key = tlsByDigest.get(digest);
    if (key === undefined) tlsByDigest.set(digest, (key = tlsByDigest.size + 1));
    tlsByObject.set(tls, key);
  }
  return key;
}

/** Characters a header value may not hold (CR and LF would end it: header injection). */
const NOT_HEADER_TEXT = /[^\t\x20-\x7e\x80-\xff]/;

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
    const url = agentUrl(host, baseUrl, path);
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

/**
 * `path` on the agent at `baseUrl`. Only a path of the agent's own origin: a URL, `//host/…` or `/\\host/…` in its
 * place would send the token to another server (in plaintext, from an `https://` agent).
 */
function agentUrl(host: string, baseUrl: string, path: string): URL {
  const base = new URL(baseUrl);
  if (!/^\/(?![/\\])/.test(path))
    throw new ProtocolError(host, `a request path must start with a single '/': ${JSON.stringify(path.slice(0, 60))}`);
  const url = new URL(path, base);
  if (url.origin !== base.origin) throw new ProtocolError(host, "a request path leaves the agent's origin");
  return url;
}

/** One HTTP(S) exchange over a kept connection (agent-wire.ts); the answer is read up to the cap. */
function exchange(
  host: string,
  url: URL,
  token: Secret,
  options: AgentRequestOptions,
  signal: AbortSignal,
  fresh = false,
): Promise<WireAnswer> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return Promise.reject(new ProtocolError(host, `an agent URL must be http: or https:, not ${url.protocol}`));
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const secret = token.reveal();
  if (NOT_HEADER_TEXT.test(secret))
    return Promise.reject(new ProtocolError(host, 'the agent token holds a character a header cannot carry'));
  const head =
    `${options.method} ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
    `Authorization: Bearer ${secret}\r\nContent-Type: application/json\r\nAccept: application/json\r\n` +
    (body === undefined ? '' : `Content-Length: ${Buffer.byteLength(body)}\r\n`) +
    'Connection: keep-alive\r\n\r\n';
  const tls = options.tls;
  return wireExchange(
    {
      url,
      tls: url.protocol === 'https:' ? { ca: tls?.ca, cert: tls?.cert, key: tls?.key?.reveal() } : undefined,
      tlsKey: url.protocol === 'https:' ? tlsKeyOf(tls) : 0,
      idleMs: Math.min(options.keepAliveMs ?? AGENT_CLIENT_DEFAULT_IDLE_MS, AGENT_CLIENT_MAX_IDLE_MS),
      // A retry after a stale connection opens a new one (another kept connection could be stale as well).
      fresh,
    },
    {
      method: options.method,
      head,
      body,
      max: options.maxAnswerBytes ?? MAX_AGENT_ANSWER,
      signal,
      host,
      path: url.pathname,
    },
  );
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
