import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '@hafence/core';
import { redfishErrors, type RedfishReply } from './redfish-messages.js';
import type { RedfishResetRecord, SimPowerState } from './redfish-power.js';
import { normalisePath } from './redfish-request.js';
import { RedfishService } from './redfish-service.js';
import { checkRedfishSimOptions, type RedfishSimFault, type RedfishSimOptions } from './redfish-sim-options.js';
import { redfishVariantProfile } from './redfish-variant.js';
import { generateSelfSignedCertificate } from './self-signed-cert.js';

/** Counters of a {@link RedfishSim}. */
export interface RedfishSimStats {
  /** HTTP requests received (every one, faults included). */
  requests: number;
  /** TCP connections accepted. */
  connections: number;
  /** Sessions logged in since start. */
  sessionsCreated: number;
  /** Sessions open now. */
  sessionsOpen: number;
  /** Most sessions open at once since start (at most `maxSessions`). */
  sessionsPeak: number;
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * A Redfish BMC over HTTPS on a real socket: service root, Systems, Managers, Chassis, SessionService (sessions with
 * `X-Auth-Token`) and Basic authentication, `ComputerSystem.Reset` with a timed power model, task monitors, ETags,
 * vendor-shaped variants and switchable faults. Real `fence_redfish` and `redfishtool` drive it.
 *
 * @example
 * const bmc = new RedfishSim({ username: 'admin', password: 'pw', variant: 'dell' });
 * await bmc.start();
 * // GET `${bmc.url}/redfish/v1/Systems/${bmc.systemId}` trusting bmc.certPem as CA …
 * bmc.setFault({ kind: 'busy-503' });
 * await bmc.close();
 */
export class RedfishSim {
  /** The served certificate (PEM); a client can trust it as its CA. */
  readonly certPem: string;
  readonly #keyPem: string;
  readonly #options: RedfishSimOptions;
  readonly #clock: Clock;
  readonly #service: RedfishService;
  readonly #sockets = new Set<Socket>();
  readonly #delayed = new Set<TimerHandle>();
  readonly #stats = { requests: 0, connections: 0 };
  #server?: Server;
  #port = 0;
  #fault: RedfishSimFault | null = null;
  /** Times of the requests served in the last second (`busy-503` with `maxPerSecond`). */
  #recent: number[] = [];
  #closed = false;

  /** Checks the options (a `ConfigError` names what is wrong) and makes the certificate; then call {@link start}. */
  constructor(options: RedfishSimOptions) {
    checkRedfishSimOptions(options);
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    const tls = options.tls ?? generateSelfSignedCertificate({ notBeforeMs: this.#clock.now() });
    this.certPem = tls.certPem;
    this.#keyPem = tls.keyPem;
    this.#service = new RedfishService(
      {
        profile: redfishVariantProfile(options.variant ?? 'generic'),
        username: options.username,
        password: options.password,
        basicAuth: options.basicAuth ?? true,
        sessionTimeoutMs: options.sessionTimeoutMs,
        maxSessions: options.maxSessions,
        initialPower: options.initialPower ?? 'On',
        powerDelays: options.powerDelays,
      },
      this.#clock,
    );
  }

  /** Listens on `host:port`. */
  async start(): Promise<void> {
    if (this.#server) throw new Error('RedfishSim already started');
    const server = createServer(
      {
        cert: this.certPem,
        key: this.#keyPem,
        minVersion: 'TLSv1.2',
        keepAliveTimeout: 10_000,
        headersTimeout: 10_000,
        requestTimeout: 30_000,
      },
      (req, res) => this.#onRequest(req, res),
    );
    server.on('connection', (socket: Socket) => this.#onConnection(socket));
    server.on('tlsClientError', () => {
      /* a client that refused our certificate or spoke plain HTTP: its socket is already gone */
    });
    this.#server = server;
    await this.#listen(this.#options.port ?? 0);
  }

  /** Stops listening, cuts open connections and cancels timers. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#service.power.stop();
    for (const t of this.#delayed) this.#clock.clearTimeout(t);
    this.#delayed.clear();
    const server = this.#server;
    for (const s of this.#sockets) s.destroy();
    if (!server?.listening) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The bound TCP port. */
  get port(): number {
    return this.#port;
  }

  /** `https://host:port` (no trailing slash). */
  get url(): string {
    const host = this.#options.host ?? '127.0.0.1';
    return `https://${host.includes(':') ? `[${host}]` : host}:${this.#port}`;
  }

  /** `Id` of the ComputerSystem (`1`, `System.Embedded.1`, …). */
  get systemId(): string {
    return this.#service.profile.systemId;
  }

  /** `/redfish/v1/Systems/<id>`. */
  get systemUri(): string {
    return this.#service.uris.system;
  }

  /** The settled power state (a pending change has not landed yet). */
  powerState(): SimPowerState {
    return this.#service.power.state;
  }

  /** Forces the power state now, cancelling a pending change. */
  setPowerState(state: SimPowerState): void {
    this.#service.power.set(state);
  }

  /** Every accepted `ComputerSystem.Reset`, oldest first. */
  get resets(): ReadonlyArray<RedfishResetRecord> {
    return this.#service.power.resets;
  }

  /** Request, connection and session counters. */
  get stats(): Readonly<RedfishSimStats> {
    const s = this.#service.sessions;
    return { ...this.#stats, sessionsCreated: s.created, sessionsOpen: s.list().length, sessionsPeak: s.peakOpen };
  }

  /** The fault now in force, if any. */
  get fault(): RedfishSimFault | null {
    return this.#fault;
  }

  /** Switches a fault on (replacing the previous one) or off (`null`). */
  setFault(fault: RedfishSimFault | null): void {
    const wasDown = this.#fault?.kind === 'down';
    this.#fault = fault;
    this.#recent = [];
    this.#service.sessions.rejectAll = fault?.kind === 'wrong-password';
    if (fault?.kind === 'down' && !wasDown) this.#goDown();
    if (fault?.kind !== 'down' && wasDown) this.#comeBack();
  }

  async #listen(port: number): Promise<void> {
    const server = this.#server!;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.#options.host ?? '127.0.0.1', () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    const address = server.address();
    this.#port = typeof address === 'object' && address ? address.port : port;
  }

  #goDown(): void {
    const server = this.#server;
    if (!server?.listening) return;
    server.close(() => {
      /* reopened by #comeBack */
    });
    for (const s of this.#sockets) s.destroy();
  }

  #comeBack(): void {
    if (this.#closed || !this.#server || this.#server.listening) return;
    this.#listen(this.#port).catch(() => {
      /* the port was taken meanwhile: the BMC stays unreachable, as a real one would */
    });
  }

  #onConnection(socket: Socket): void {
    if (this.#fault?.kind === 'down' || this.#closed) {
      socket.destroy();
      return;
    }
    this.#stats.connections++;
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.#stats.requests++;
    req.on('error', () => res.destroy());
    const limit = this.#options.maxBodyBytes ?? 65_536;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      this.#send(res, redfishErrors.tooLarge(limit), true);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > limit) this.#send(res, redfishErrors.tooLarge(limit), true);
      else this.#answer(req, res, Buffer.concat(chunks));
    });
  }

  #answer(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    let reply: RedfishReply;
    try {
      reply = this.#busy()
        ? redfishErrors.busy()
        : this.#service.handle({
            method: req.method ?? 'GET',
            path: normalisePath(req.url ?? '/'),
            authorization: one(req.headers.authorization),
            authToken: one(req.headers['x-auth-token']),
            ifMatch: one(req.headers['if-match']),
            body,
          });
    } catch {
      reply = { status: 500, body: { error: { code: 'Base.1.8.InternalError', message: 'internal error' } } };
    }
    const delay = this.#fault?.kind === 'slow' ? (this.#fault.delayMs ?? 2000) : 0;
    if (delay <= 0) {
      this.#send(res, reply, false);
      return;
    }
    const t = this.#clock.setTimeout(() => {
      this.#delayed.delete(t);
      this.#send(res, reply, false);
    }, delay);
    this.#delayed.add(t);
  }

  /** Whether the `busy-503` fault refuses this request (all, or those beyond `maxPerSecond` in the last second). */
  #busy(): boolean {
    const fault = this.#fault;
    if (fault?.kind !== 'busy-503') return false;
    if (fault.maxPerSecond === undefined) return true;
    const now = this.#clock.now();
    while (this.#recent.length > 0 && now - this.#recent[0]! >= 1000) this.#recent.shift();
    if (this.#recent.length >= fault.maxPerSecond) return true;
    this.#recent.push(now);
    return false;
  }

  #send(res: ServerResponse, reply: RedfishReply, close: boolean): void {
    if (res.destroyed || res.writableEnded) return;
    const headers: Record<string, string> = { 'OData-Version': '4.0', 'Cache-Control': 'no-cache', ...reply.headers };
    if (close) headers.Connection = 'close';
    if (reply.body === undefined || reply.status === 204) {
      res.writeHead(reply.status, headers).end();
      return;
    }
    let text = JSON.stringify(reply.body);
    if (this.#fault?.kind === 'malformed-json') text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    headers['Content-Type'] = 'application/json; charset=utf-8';
    headers['Content-Length'] = String(Buffer.byteLength(text));
    res.writeHead(reply.status, headers).end(text);
  }
}
