import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, noopLogger, systemClock, type HaEvent, type Logger } from '@hafence/core';
import { HTTP_SERVER_TIMEOUTS, createHttpServer, guardConnections, markBusy } from '@hafence/core/internal';
import { registerApiRoutes } from './api-routes.js';
import { Authenticator, type TokenIdentity } from './auth.js';
import { apiErrorOf } from './engine-errors.js';
import { EventFeed } from './event-feed.js';
import type { OperatorLimits, OperatorServerOptions, ServerInfo } from './options.js';
import { registerPageRoutes } from './page-routes.js';
import { ResourceHistory } from './resource-history.js';
import { ApiError, refuse, sendError } from './respond.js';
import { Router } from './router.js';
import { seedHistory } from './seed-history.js';
import { SseHub } from './sse-hub.js';
import { lastEventId, parseOr400 } from './validation.js';

/** A running operator API server. */
export interface OperatorServer {
  /** Where it listens (the port picked when asked for 0). */
  readonly address: { readonly host: string; readonly port: number };
  /** `http` or `https`. */
  readonly protocol: 'http' | 'https';
  /**
   * Replaces the token identities (e.g. a token file re-read on SIGHUP): a revoked token is refused from the
   * next request on. Throws a RangeError when the server was started without tokens or `tokens` is empty.
   */
  setTokens(tokens: readonly TokenIdentity[]): void;
  /** Ends the event streams, stops listening and closes every connection. */
  close(): Promise<void>;
}

const DEFAULT_LIMITS: OperatorLimits = {
  maxConnections: 256,
  maxConnectionsPerAddress: 192,
  maxSseClients: 64,
  maxSseBufferedBytes: 1024 * 1024,
  sseKeepAliveMs: 15_000,
};

/**
 * Starts the operator's HTTP API of a hafence engine (the `hafence serve --http` server):
 * JSON routes under `/api/v1` over the engine's read model and operator actions, the live
 * event stream (SSE), `/metrics` and the status page when given. Every request is
 * authenticated (bearer or Basic token, and/or a TLS client certificate); operator actions
 * are audited with the caller's identity. The engine never waits on it: events are
 * written to the streams without waiting and slow clients are dropped.
 *
 * @example
 * const api = await startOperatorServer({
 *   service, store, msId: 'ms1', version: '0.1.0',
 *   listen: { host: '127.0.0.1', port: 9440 },
 *   auth: { tokens: [{ name: 'alice', token: new Secret(process.env.TOKEN!) }] },
 * });
 * // … on shutdown, before the engine stops:
 * await api.close();
 */
export async function startOperatorServer(options: OperatorServerOptions): Promise<OperatorServer> {
  const tokens = options.auth.tokens ?? [];
  const clientCert = options.auth.tls?.clientCa !== undefined;
  if (tokens.length === 0 && !clientCert)
    throw new ConfigError([{ path: 'auth', value: undefined, rule: 'needs token identities or a client CA' }]);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? noopLogger;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const startedAt = clock.now();
  const feed = new EventFeed();
  const history = new ResourceHistory();
  const hub = new SseHub(
    feed,
    clock,
    {
      maxClients: limits.maxSseClients,
      maxBufferedBytes: limits.maxSseBufferedBytes,
      keepAliveMs: limits.sseKeepAliveMs,
    },
    () => logger.warn('operator API: a slow event-stream client was dropped', { maxBytes: limits.maxSseBufferedBytes }),
  );
  const onEvent = (event: HaEvent) => {
    history.observe(event);
    hub.broadcast(feed.push(event));
  };
  const sub = options.service.events$.subscribe(onEvent);
  const serverInfo = (): ServerInfo => ({
    msId: options.msId,
    observeOnly: options.observeOnly ?? false,
    version: options.version,
    startedAt,
    now: clock.now(),
  });
  const router = new Router();
  registerApiRoutes(router, { service: options.service, store: options.store, history, serverInfo });
  router.add('GET', '/api/v1/events/stream', ({ req, res }) => {
    if (hub.full) throw new ApiError(429, 'too-many', 'too many event-stream clients');
    const header = req.headers['last-event-id'];
    const last = header === undefined ? undefined : parseOr400(lastEventId, header, 'Last-Event-ID');
    hub.join(res, last);
  });
  registerPageRoutes(router, {
    metrics: options.metrics,
    page: options.page,
    service: options.service,
    serverInfo,
    recent: () => feed.after(0).map((entry) => entry.event),
  });
  const auth = new Authenticator(tokens, clientCert);
  const log = { logger, refusals: 0 };
  const server = buildServer(options, (req, res) => {
    handle(req, res, router, auth, log).catch((err: unknown) => {
      logger.error('operator API: request failed', { error: err instanceof Error ? err.name : 'error' });
      if (!res.headersSent) sendError(res, new ApiError(500, 'internal', 'internal error'));
      else res.destroy();
    });
  });
  guardConnections(
    server,
    {
      maxConnections: limits.maxConnections,
      maxPerAddress: limits.maxConnectionsPerAddress,
      atAddressCap: 'evict-oldest-idle',
      firstRequestTimeoutMs: HTTP_SERVER_TIMEOUTS.headersTimeout,
    },
    (address, why) => logger.warn('operator API: connection shed', { source: address, why }),
  );
  try {
    await listen(server, options.listen.host, options.listen.port);
  } catch (err) {
    sub.unsubscribe();
    throw err;
  }
  if (options.seedHistory ?? true)
    seedHistory(options.store, history).catch((err: unknown) =>
      logger.warn('operator API: recent transitions not seeded from the event history', { error: String(err) }),
    );
  const address = server.address() as AddressInfo;
  return {
    address: { host: address.address, port: address.port },
    protocol: options.auth.tls ? 'https' : 'http',
    setTokens: (list) => auth.setTokens(list),
    close: async () => {
      sub.unsubscribe();
      hub.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function buildServer(
  options: OperatorServerOptions,
  listener: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  return createHttpServer(options.auth.tls, 64, listener);
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Failed authentications are logged at most once per this many of them (a flood cannot flood the log). */
const AUTH_LOG_EVERY = 100;

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  router: Router,
  auth: Authenticator,
  log: { readonly logger: Logger; refusals: number },
): Promise<void> {
  const who = auth.identify(req);
  if (!who.ok) {
    if (log.refusals++ % AUTH_LOG_EVERY === 0)
      log.logger.warn('operator API: authentication failed', {
        source: req.socket.remoteAddress,
        why: who.why,
        refusals: log.refusals,
      });
    refuse(res, new ApiError(401, 'unauthorized', 'authentication required'), {
      'www-authenticate': 'Basic realm="hafence", charset="UTF-8"',
    });
    return;
  }
  const socket = req.socket;
  markBusy(socket, true);
  res.once('close', () => markBusy(socket, false));
  const url = splitTarget(req.url ?? '/');
  const found = router.match(req.method ?? 'GET', url.pathname);
  try {
    if (found.kind === 'none') throw new ApiError(404, 'not-found', 'no such route');
    if (found.kind === 'wrong-method')
      throw new ApiError(405, 'method-not-allowed', `allowed: ${found.allowed.join(', ')}`);
    await found.handler({ req, res, params: found.params, query: url.searchParams, identity: who.identity });
  } catch (err) {
    const api = apiErrorOf(err);
    if (!api) throw err;
    const headers: Record<string, string> = found.kind === 'wrong-method' ? { allow: found.allowed.join(', ') } : {};
    if (req.complete) sendError(res, api, headers);
    else refuse(res, api, headers);
  }
}

/**
 * The request target's path and query, as sent: not parsed as a URL, which would read `//x/y`
 * as host `x` and normalise `/x/../y` (the router refuses both, consistently).
 */
function splitTarget(target: string): { pathname: string; searchParams: URLSearchParams } {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const hash = path.indexOf('#');
  return {
    pathname: hash < 0 ? path : path.slice(0, hash),
    searchParams: new URLSearchParams(q < 0 ? '' : target.slice(q + 1)),
  };
}
