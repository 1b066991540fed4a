import { NotFoundError, ProtocolError, TimeoutError, type Clock, type Secret } from '@hafence/core';
import type { AgentConnectivity, AgentHealth, ArmRequest, HeartbeatObservation, NeighborExecutor } from '../ports.js';
import { agentRequest, type AgentClientTls } from './agent-client.js';

/** Where each host's agent listens: a map of host id → base URL, or a lookup function. */
export type AgentDirectory = Readonly<Record<string, string>> | ((host: string) => string | undefined);

/** Options of the HTTP ports. */
export interface HttpPortsOptions {
  readonly agents: AgentDirectory;
  /** The agents' bearer token (read from a file; never logged). */
  readonly token: Secret;
  /** Reply timeout of a request, on top of a read window (default 10 s). */
  readonly replyTimeoutMs?: number;
  readonly clock?: Clock;
  /** TLS settings of `https://` agents (the CA that verifies them, the client certificate). */
  readonly tls?: AgentClientTls;
  /**
   * How long a connection to an agent stays open for the next request (ms): above the check interval, so each host
   * keeps one connection across checks (see `agentClientIdleMs`; default 20 s).
   */
  readonly keepAliveMs?: number;
}

function addressOf(dir: AgentDirectory, host: string): string | undefined {
  return typeof dir === 'function' ? dir(host) : dir[host];
}

/**
 * {@link AgentConnectivity} over the hafence agent's HTTP API (standalone mode: a
 * bare-metal cluster needs nothing but hafence).
 *
 * @example
 * const agents = new HttpAgentConnectivity({ agents: { h1: 'http://10.0.0.1:7070' }, token });
 */
export class HttpAgentConnectivity implements AgentConnectivity {
  /** Binds the port to the agent directory and token. */
  constructor(private readonly options: HttpPortsOptions) {}

  async health(host: string, signal: AbortSignal): Promise<AgentHealth> {
    const url = addressOf(this.options.agents, host);
    if (!url) return { connected: false, detail: 'no agent address known' };
    try {
      return await agentRequest<AgentHealth>(
        host,
        url,
        '/health',
        this.options.token,
        this.request('GET', undefined, signal),
      );
    } catch (err) {
      return { connected: false, detail: (err as Error).message };
    }
  }

  /** `POST /arm {armed, armGen}`; an agent that applied a higher gen answers 409 (a `ProtocolError`). */
  async setArmed(host: string, request: ArmRequest, signal: AbortSignal): Promise<void> {
    const url = addressOf(this.options.agents, host);
    if (!url) throw new NotFoundError('agent address', host);
    await agentRequest(
      host,
      url,
      '/arm',
      this.options.token,
      this.request('POST', { armed: request.armed, armGen: request.armGen }, signal),
    );
  }

  private request(method: 'GET' | 'POST', body: unknown, signal: AbortSignal) {
    return {
      method,
      body,
      signal,
      timeoutMs: this.options.replyTimeoutMs ?? 10_000,
      clock: this.options.clock,
      tls: this.options.tls,
      keepAliveMs: this.options.keepAliveMs,
    };
  }
}

/**
 * {@link NeighborExecutor} over the hafence agent's HTTP API: the checker's agent reads
 * the suspect's heartbeat twice a window apart; a missing reply is a `timeout`.
 */
export class HttpNeighborExecutor implements NeighborExecutor {
  /** Binds the port to the agent directory and token. */
  constructor(private readonly options: HttpPortsOptions) {}

  async readHeartbeat(
    checker: string,
    suspect: string,
    windowMs: number,
    signal: AbortSignal,
    volumes?: readonly string[],
  ): Promise<HeartbeatObservation> {
    const url = addressOf(this.options.agents, checker);
    if (!url) return { ok: false, reason: 'error', detail: `no agent address known for ${checker}` };
    const timeoutMs = windowMs + (this.options.replyTimeoutMs ?? 10_000);
    try {
      const body = volumes && volumes.length > 0 ? { suspect, windowMs, volumes } : { suspect, windowMs };
      return checkedObservation(
        checker,
        await agentRequest<unknown>(checker, url, '/read-heartbeat', this.options.token, {
          method: 'POST',
          body,
          timeoutMs,
          signal,
          clock: this.options.clock,
          tls: this.options.tls,
          keepAliveMs: this.options.keepAliveMs,
        }),
      );
    } catch (err) {
      if (signal.aborted) throw err;
      return { ok: false, reason: err instanceof TimeoutError ? 'timeout' : 'error', detail: (err as Error).message };
    }
  }

  async canReach(peer: string, suspect: string, signal: AbortSignal): Promise<boolean> {
    const url = addressOf(this.options.agents, peer);
    if (!url) throw new NotFoundError('agent address', peer);
    const answer = await agentRequest<{ reachable: boolean }>(peer, url, '/peer-reach', this.options.token, {
      method: 'POST',
      body: { suspect },
      timeoutMs: this.options.replyTimeoutMs ?? 10_000,
      signal,
      clock: this.options.clock,
      tls: this.options.tls,
      keepAliveMs: this.options.keepAliveMs,
    });
    return answer.reachable === true;
  }
}

/**
 * The checker's answer, checked where the provider relies on its shape (a hostile or broken agent gets a
 * `ProtocolError`).
 */
function checkedObservation(checker: string, answer: unknown): HeartbeatObservation {
  const a = answer as {
    ok?: unknown;
    first?: unknown;
    second?: unknown;
    volumes?: { read?: unknown; skipped?: unknown; changed?: unknown; failed?: unknown; fingerprints?: unknown };
  } | null;
  if (!a || typeof a !== 'object' || typeof a.ok !== 'boolean')
    throw new ProtocolError(checker, 'read-heartbeat answer without ok');
  if (a.ok && (!a.first || typeof a.first !== 'object' || !a.second || typeof a.second !== 'object'))
    throw new ProtocolError(checker, 'read-heartbeat answer without its two records');
  const v = a.volumes;
  if (v !== undefined) {
    const strings = Array.isArray(v.changed) && v.changed.every((c) => typeof c === 'string');
    const failures =
      Array.isArray(v.failed) &&
      v.failed.every(
        (f: { volume?: unknown; detail?: unknown } | null) =>
          typeof f?.volume === 'string' && typeof f.detail === 'string',
      );
    const prints =
      v.fingerprints === undefined ||
      (typeof v.fingerprints === 'object' &&
        v.fingerprints !== null &&
        Object.values(v.fingerprints).every((f) => typeof f === 'string'));
    if (!v || typeof v.read !== 'number' || typeof v.skipped !== 'number' || !strings || !failures || !prints)
      throw new ProtocolError(checker, 'read-heartbeat answer with a malformed volumes part');
  }
  return answer as HeartbeatObservation;
}
