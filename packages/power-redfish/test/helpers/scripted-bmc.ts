import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { generateSelfSignedCertificate } from '@hafence/sim';

/** One request as a {@link ScriptedBmc} saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** What a route answers: a status, a JSON body, headers. */
export interface ScriptedReply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A route: `METHOD /path` → its answer (a function sees the request). */
export type Routes = Record<string, ScriptedReply | ((req: SeenRequest) => ScriptedReply)>;

/**
 * A tiny HTTPS server answering from a route table: for the protocol corners RedfishSim does
 * not take (no sessions, failing tasks, links to other hosts, expiring tokens).
 */
export class ScriptedBmc {
  readonly seen: SeenRequest[] = [];
  readonly certPem: string;
  #server: Server;
  routes: Routes;

  constructor(routes: Routes) {
    this.routes = routes;
    const { certPem, keyPem } = generateSelfSignedCertificate({ notBeforeMs: Date.now() - 60_000 });
    this.certPem = certPem;
    this.#server = createServer({ cert: certPem, key: keyPem }, (req, res) => this.#answer(req, res));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
  }

  get port(): number {
    const a = this.#server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #answer(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      this.seen.push(seen);
      const route = this.routes[`${seen.method} ${seen.path}`];
      const reply =
        typeof route === 'function'
          ? route(seen)
          : (route ?? { status: 404, body: { error: { code: 'Base.1.8.ResourceMissingAtURI' } } });
      const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
      res.writeHead(reply.status, { 'Content-Type': 'application/json', ...reply.headers });
      res.end(body);
    });
  }
}

/** A service root without sessions, one system, `PowerState` `state`. */
export function sessionlessRoutes(state = 'On'): Routes {
  const basicOnly = (ok: ScriptedReply) => (req: SeenRequest) =>
    req.headers.authorization?.startsWith('Basic ') ? ok : { status: 401, body: {} };
  return {
    'GET /redfish/v1': { status: 200, body: { Systems: { '@odata.id': '/redfish/v1/Systems' } } },
    'GET /redfish/v1/Systems': basicOnly({
      status: 200,
      body: { Members: [{ '@odata.id': '/redfish/v1/Systems/1' }] },
    }),
    'GET /redfish/v1/Systems/1': basicOnly({
      status: 200,
      body: {
        PowerState: state,
        Actions: {
          '#ComputerSystem.Reset': {
            target: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset',
            'ResetType@Redfish.AllowableValues': ['On', 'ForceOff'],
          },
        },
      },
    }),
  };
}
