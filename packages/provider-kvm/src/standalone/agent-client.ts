import {
  AuthError, ProtocolError, TimeoutError, UnreachableError, systemClock, type Clock, type Secret,
} from '@hafence/core';

/** Options of one request to a hafence agent. */
export interface AgentRequestOptions {
  readonly method: 'GET' | 'POST';
  readonly body?: unknown;
  /** Reply timeout on `clock`: the request is aborted for real when it fires. */
  readonly timeoutMs: number;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
}

/**
 * Sends one authenticated JSON request to an agent at `baseUrl` and returns its JSON
 * answer. Failures are typed: `TimeoutError` (no reply in time), `UnreachableError`,
 * `AuthError` (token refused), `ProtocolError` (any other answer). The token is sent in
 * a header only, never in a URL, message or log.
 */
export async function agentRequest<T>(host: string, baseUrl: string, path: string, token: Secret, options: AgentRequestOptions): Promise<T> {
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
    const response = await fetch(new URL(path, baseUrl), {
      method: options.method,
      headers: { authorization: `Bearer ${token.reveal()}`, 'content-type': 'application/json' },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: controller.signal,
    });
    const text = await response.text();
    if (response.status === 401) throw new AuthError(host, 'hafence-agent', 'token refused');
    if (!response.ok) throw new ProtocolError(host, `HTTP ${response.status} from ${path}`);
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new ProtocolError(host, `answer of ${path} is not JSON`, { cause: err });
    }
  } catch (err) {
    if (err instanceof AuthError || err instanceof ProtocolError) throw err;
    if (timedOut) throw new TimeoutError(`agent ${path}`, options.timeoutMs, host);
    if (options.signal?.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : new TimeoutError(`agent ${path}`, options.timeoutMs, host);
    throw new UnreachableError(host, baseUrl, (err as Error).message, { cause: err });
  } finally {
    clock.clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}
