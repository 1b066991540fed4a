import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { generateSelfSignedCertificate } from '@hafence/sim';

/** The password every hostile-BMC test logs in with (asserted absent from errors and logs). */
export const HOSTILE_PW = 'hostile-pw-Zq81';
/** The session token the hostile BMC hands out (asserted absent from errors and logs). */
export const HOSTILE_TOKEN = 'tok-SECRET-9f3a77';

/** One request as the hostile BMC saw it. */
export interface HostileRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/**
 * A handler: answer the request any way it likes (write nothing, trickle, destroy the socket…),
 * or return false to let the well-behaved defaults answer.
 */
export type HostileHandler = (req: HostileRequest, res: ServerResponse, socket: Socket) => boolean | void;

/**
 * A hand-written HTTPS "BMC" whose every answer can be hostile. Its defaults are a correct
 * session-based Redfish service with one system (`/redfish/v1/Systems/1`), `PowerState` from
 * {@link HostileBmc.power}.
 */
export class HostileBmc {
  readonly seen: HostileRequest[] = [];
  readonly certPem: string;
  readonly keyPem: string;
  power = 'On';
  token = HOSTILE_TOKEN;
  logins = 0;
  /** Connections accepted so far, and the ones open now. */
  connections = 0;
  readonly open = new Set<Socket>();
  maxOpen = 0;
  handler: HostileHandler = () => false;
  #server: Server;

  constructor(tls?: { cert: string; key: string }) {
    const pem = tls
      ? { certPem: tls.cert, keyPem: tls.key }
      : generateSelfSignedCertificate({ notBeforeMs: Date.now() - 60_000 });
    this.certPem = pem.certPem;
    this.keyPem = pem.keyPem;
    this.#server = createServer({ cert: this.certPem, key: this.keyPem }, (req, res) => this.#answer(req, res));
    this.#server.on('secureConnection', (s: Socket) => {
      this.connections++;
      this.open.add(s);
      this.maxOpen = Math.max(this.maxOpen, this.open.size);
      s.on('close', () => this.open.delete(s));
    });
    this.#server.on('clientError', (_e, s: Socket) => s.destroy());
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
  }

  get port(): number {
    const a = this.#server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    for (const s of this.open) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #answer(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size < 1_000_000) chunks.push(c);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      const seen: HostileRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      this.seen.push(seen);
      if (this.handler(seen, res, req.socket) !== false) return;
      this.#defaults(seen, res);
    });
  }

  #defaults(req: HostileRequest, res: ServerResponse): void {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const key = `${req.method} ${req.path}`;
    if (key === 'GET /redfish/v1') {
      return json(200, {
        Systems: { '@odata.id': '/redfish/v1/Systems' },
        Links: { Sessions: { '@odata.id': '/redfish/v1/SessionService/Sessions' } },
      });
    }
    if (key === 'POST /redfish/v1/SessionService/Sessions') {
      this.logins++;
      return json(
        201,
        {},
        { 'X-Auth-Token': this.token, Location: `/redfish/v1/SessionService/Sessions/${this.logins}` },
      );
    }
    if (req.method === 'DELETE' && req.path.startsWith('/redfish/v1/SessionService/Sessions/')) {
      res.writeHead(204);
      res.end();
      return;
    }
    if (req.headers['x-auth-token'] !== this.token) return json(401, {});
    if (key === 'GET /redfish/v1/Systems') return json(200, { Members: [{ '@odata.id': '/redfish/v1/Systems/1' }] });
    if (key === 'GET /redfish/v1/Systems/1') return json(200, system(this.power));
    if (key === 'POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset') {
      res.writeHead(204);
      res.end();
      return;
    }
    json(404, { error: { code: 'Base.1.8.ResourceMissingAtURI' } });
  }
}

/** A system body with every ResetType offered. */
export function system(power: string): unknown {
  return {
    Id: '1',
    PowerState: power,
    Actions: {
      '#ComputerSystem.Reset': {
        target: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset',
        'ResetType@Redfish.AllowableValues': ['On', 'ForceOff', 'GracefulShutdown', 'ForceRestart', 'PowerCycle'],
      },
    },
  };
}
