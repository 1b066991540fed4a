import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { noopLogger, systemClock, type Clock, type Logger, type Secret } from '@hafence/core';
import type { AgentHealth, HeartbeatObservation, VmVolume } from '../ports.js';
import { ArmRefusedError } from './agent-errors.js';
import { AuthFailureLog } from './auth-failure-log.js';
import { createHttpServer, guardConnections, markBusy, type ConnectionLimits } from '@hafence/core/internal';
import type { PeerStatus } from './self-fence.js';
import { MAX_VOLUMES_PER_READ } from './volume-activity.js';

/** What the agent answers to `POST /arm`: the truth about its watchdog, not the request echoed. */
export interface ArmOutcome {
  /** The applied `armGen`. */
  readonly armGen: number;
  /** A watchdog is held open: the self-fence lease is armed. */
  readonly armed: boolean;
  /** HA is enabled for the host (it may still be unarmed: no watchdog). */
  readonly haEnabled: boolean;
  /** The watchdog kind behind `armed` (`none` while unarmed). */
  readonly watchdog: string;
}

/** What the management server answers: the agent's behaviour behind each endpoint. */
export interface AgentHandlers {
  /** A request with the management-server token arrived (resets isolation); never called for a peer token. */
  msRequest(): void;
  /** `GET /health`. */
  health(): AgentHealth;
  /** `POST /read-heartbeat {suspect, windowMs, volumes?}`: the heartbeat and, in the same passes, the VM volumes. */
  readHeartbeat(
    suspect: string,
    windowMs: number,
    signal: AbortSignal,
    volumes?: readonly string[],
  ): Promise<HeartbeatObservation>;
  /** `GET /volumes`: the volumes of the VMs running on this host (rejects when the inventory cannot tell). */
  volumes(signal: AbortSignal): Promise<{ volumes: VmVolume[]; truncated: boolean }>;
  /**
   * `POST /arm {armed, armGen?}`: resolves to what was applied; rejects with
   * {@link ArmRefusedError} (HTTP 409) for a gen lower than the applied one.
   */
  arm(armed: boolean, armGen: number | undefined): Promise<ArmOutcome>;
  /** `POST /peer-reach {suspect}`: can this agent reach `suspect`'s agent? Undefined: unknown peer. */
  peerReach(suspect: string, signal: AbortSignal): Promise<boolean | undefined>;
  /** `GET /peer/status`: asked by peer agents (not a management-server request). */
  peerStatus(): PeerStatus;
}

/** Longest window a read-heartbeat request may ask for. */
export const MAX_READ_WINDOW_MS = 600_000;
/**
 * Largest request body read (bytes; room for a read request naming 32 long volume paths); a larger one is answered 413
 * and the connection closed.
 */
export const MAX_BODY = 65_536;

/**
 * How long the agent keeps an idle connection open for the next request (ms): longer than a management server keeps
 * one (at most 60 s, `AGENT_CLIENT_MAX_IDLE_MS`), so a health check every 10 s reuses one connection and the client,
 * not the agent, closes it when it is no longer needed.
 */
export const AGENT_KEEP_ALIVE_MS = 65_000;

/** The routes a peer token may call (every other route needs the management-server token). */
export const PEER_ROUTES: readonly string[] = ['GET /peer/status', 'POST /peer-reach', 'POST /read-heartbeat'];

/** TLS of the agent server: it serves HTTPS with this certificate. */
export interface AgentServerTls {
  /** PEM certificate chain of the agent. */
  readonly cert: string;
  /** Its PEM private key. */
  readonly key: Secret;
  /** PEM CA: when given, a client certificate signed by it is required (on top of the token). */
  readonly clientCa?: string;
}

/** Options of {@link createAgentServer}. */
export interface AgentServerOptions {
  /**
   * The peer agents' token, accepted only on {@link PEER_ROUTES} (403 elsewhere). Without
   * it the management-server token is accepted everywhere (one shared token).
   */
  readonly peerToken?: Secret;
  /** Serve HTTPS (default: plain HTTP). */
  readonly tls?: AgentServerTls;
  /**
   * Connection caps (default 128 in total, 16 per source address). Unless told otherwise, a new connection from an
   * address at its cap evicts that address's oldest idle one (kept-alive connections never lock a management server
   * out), and a connection that sends no request within 10 s is closed.
   */
  readonly limits?: ConnectionLimits;
  /** How long an idle connection stays open (default {@link AGENT_KEEP_ALIVE_MS}). */
  readonly keepAliveTimeoutMs?: number;
  /** Failed authentications are logged here, rate-limited, with their source address. */
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Told of every connection dropped by a cap. */
  readonly onShed?: (address: string, why: 'per-address' | 'total') => void;
}

/** Constant-time comparison of a presented bearer token with the expected one. */
export function tokenMatches(presented: string, expected: Secret): boolean {
  // Hash both sides so lengths match and the comparison time does not leak the length.
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected.reveal()).digest();
  return timingSafeEqual(a, b);
}

/**
 * The agent's management server: JSON over HTTP or HTTPS (`options.tls`, optionally
 * requiring a client certificate), every request authenticated by a bearer token
 * (compared in constant time): the management-server `token` on every route, the
 * `peerToken` only on {@link PEER_ROUTES} (403 elsewhere, logged; it never counts as
 * management-server contact). A token never appears in a response,
 * log line or error. Hardened against floods (docs/behaviour.md#kvm-hosts): connections are capped in
 * total and per source address, idle or slow connections are closed after a few
 * seconds, the token is checked from the headers before any body is read (401 and the
 * connection closed), and a body over {@link MAX_BODY} is refused (413) unread.
 */
export function createAgentServer(token: Secret, handlers: AgentHandlers, options: AgentServerOptions = {}): Server {
  const authLog = new AuthFailureLog({ clock: options.clock ?? systemClock, logger: options.logger ?? noopLogger });
  const tokens = { ms: token, peer: options.peerToken };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res, tokens, handlers, authLog).catch(() => send(res, 500, { error: 'internal error' }));
  };
  const server = createHttpServer(options.tls, 32, listener);
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? AGENT_KEEP_ALIVE_MS;
  const limits: ConnectionLimits = {
    atAddressCap: 'evict-oldest-idle',
    firstRequestTimeoutMs: 10_000,
    ...(options.limits ?? { maxConnections: 128, maxPerAddress: 16 }),
  };
  guardConnections(server, limits, options.onShed ?? (() => {}));
  return server;
}

/** Who presented which token: the management server's (every route) or a peer agent's. */
type Caller = 'ms' | 'peer';

function callerOf(presented: string, tokens: { ms: Secret; peer?: Secret }): Caller | undefined {
  if (!presented) return undefined;
  const ms = tokenMatches(presented, tokens.ms);
  // both compared: no timing hint of which
  const peer = tokens.peer !== undefined && tokenMatches(presented, tokens.peer);
  return ms ? 'ms' : peer ? 'peer' : undefined;
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  tokens: { ms: Secret; peer?: Secret },
  h: AgentHandlers,
  authLog: AuthFailureLog,
): Promise<void> {
  const auth = req.headers.authorization ?? '';
  const presented = auth.startsWith('Bearer ') ? auth.slice(7) : '';
  const caller = callerOf(presented, tokens);
  if (!caller) {
    authLog.record(req.socket.remoteAddress ?? 'unknown', presented ? 'wrong token' : 'missing token');
    refuse(res, 401, { error: 'unauthorized' }); // the body is never read
    return;
  }
  if (caller === 'peer' && !PEER_ROUTES.includes(`${req.method} ${(req.url ?? '').split('?')[0]}`)) {
    authLog.record(req.socket.remoteAddress ?? 'unknown', 'peer token on a management-server route');
    refuse(res, 403, { error: 'the peer token is not allowed on this route' });
    return;
  }
  const msRequest = () => {
    if (caller === 'ms') h.msRequest();
  };
  const declared = Number(req.headers['content-length'] ?? 0);
  if (!(declared <= MAX_BODY)) {
    refuse(res, 413, { error: `body over ${MAX_BODY} bytes` });
    return;
  }
  markBusy(req.socket, true);
  res.once('close', () => markBusy(req.socket, false));
  const route = `${req.method} ${(req.url ?? '').split('?')[0]}`;
  if (route === 'GET /peer/status') {
    send(res, 200, h.peerStatus());
    return;
  }
  const body = req.method === 'POST' ? await readJson(req) : {};
  if (body === 'too large') {
    refuse(res, 413, { error: `body over ${MAX_BODY} bytes` });
    return;
  }
  if (body === undefined) {
    send(res, 400, { error: `body must be a JSON object of at most ${MAX_BODY} bytes` });
    return;
  }
  const abort = new AbortController();
  res.on('close', () => abort.abort(new Error('client went away')));
  switch (route) {
    case 'GET /health':
      msRequest();
      send(res, 200, h.health());
      return;
    case 'POST /read-heartbeat': {
      const { suspect, windowMs, volumes } = body as { suspect?: unknown; windowMs?: unknown; volumes?: unknown };
      if (
        typeof suspect !== 'string' ||
        typeof windowMs !== 'number' ||
        windowMs < 0 ||
        windowMs > MAX_READ_WINDOW_MS ||
        !volumeList(volumes)
      ) {
        send(res, 400, {
          error: `need {suspect: string, windowMs: 0..600000, volumes?: at most ${MAX_VOLUMES_PER_READ} strings}`,
        });
        return;
      }
      msRequest();
      send(res, 200, await h.readHeartbeat(suspect, windowMs, abort.signal, volumes));
      return;
    }
    case 'GET /volumes':
      msRequest();
      try {
        send(res, 200, await h.volumes(abort.signal));
      } catch (err) {
        send(res, 503, { error: (err as Error).message });
      }
      return;
    case 'POST /arm': {
      const { armed, armGen } = body as { armed?: unknown; armGen?: unknown };
      if (
        typeof armed !== 'boolean' ||
        (armGen !== undefined && !(typeof armGen === 'number' && Number.isSafeInteger(armGen) && armGen >= 0))
      ) {
        send(res, 400, { error: 'need {armed: boolean, armGen?: integer ≥ 0}' });
        return;
      }
      msRequest();
      try {
        const applied = await h.arm(armed, armGen);
        const detail =
          armed && !applied.armed ? 'HA enabled but no watchdog: the self-fence lease stays unarmed' : undefined;
        send(res, 200, { ...applied, ...(detail ? { detail } : {}) });
      } catch (err) {
        if (!(err instanceof ArmRefusedError)) throw err;
        send(res, 409, { error: err.message, code: err.code, armGen: err.applied });
      }
      return;
    }
    case 'POST /peer-reach': {
      const { suspect } = body as { suspect?: unknown };
      if (typeof suspect !== 'string') {
        send(res, 400, { error: 'need {suspect: string}' });
        return;
      }
      msRequest();
      const reachable = await h.peerReach(suspect, abort.signal);
      if (reachable === undefined) send(res, 404, { error: 'unknown peer' });
      else send(res, 200, { reachable });
      return;
    }
    default:
      send(res, 404, { error: 'no such endpoint' });
  }
}

function volumeList(value: unknown): value is readonly string[] | undefined {
  return (
    value === undefined ||
    (Array.isArray(value) && value.length <= MAX_VOLUMES_PER_READ && value.every((v) => typeof v === 'string'))
  );
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | 'too large' | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return 'too large';
    chunks.push(chunk as Buffer);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Answers `status` and closes the connection without reading the rest of the request. */
function refuse(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.shouldKeepAlive = false;
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    connection: 'close',
  });
  const socket = res.socket;
  res.end(text, () => socket?.destroy());
  // A peer that does not read its answer cannot hold the socket either.
  socket?.setTimeout(2_000, () => socket.destroy());
}
