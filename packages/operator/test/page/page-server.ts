import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { STATUS_PAGE_ASSETS, renderStatusPage, type PageEvent, type StatusSnapshot } from '@hafence/operator';

/** The Basic credentials the fixture server asks for. */
export const FIXTURE_USER = { username: 'operator', password: 'fixture-token-0123456789abcdef0123' };

const CSP = "default-src 'self'";

/**
 * A stand-in for the operator server of the contract, for the page alone: `/` rendered from
 * `snapshot`, the two assets, `/api/v1/server`, `/api/v1/resources` (from `snapshot`) and an
 * event stream the test writes to; Basic auth on every route, CSP `default-src 'self'`.
 */
export class PageFixtureServer {
  snapshot: StatusSnapshot;
  /** Requests seen, as `METHOD path`. */
  readonly requests: string[] = [];
  private readonly streams = new Set<ServerResponse>();
  private readonly server: Server;
  private seq = 0;

  constructor(snapshot: StatusSnapshot) {
    this.snapshot = snapshot;
    this.server = createServer((req, res) => this.handle(req, res));
  }

  /** Listens on a free loopback port; returns the page's URL. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  /** Open event streams. */
  get streamCount(): number {
    return this.streams.size;
  }

  /** Sends `event` to every open stream (`id`, `event: <type>`, `data: <json>`). */
  push(event: PageEvent): void {
    const id = ++this.seq;
    for (const s of this.streams) s.write(`id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  }

  /** Ends every open stream (the browser then reconnects). */
  dropStreams(): void {
    for (const s of this.streams) s.end();
    this.streams.clear();
  }

  async close(): Promise<void> {
    this.dropStreams();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.requests.push(`${req.method} ${path}`);
    const basic = `Basic ${Buffer.from(`${FIXTURE_USER.username}:${FIXTURE_USER.password}`).toString('base64')}`;
    if (req.headers.authorization !== basic) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="hafence"', 'content-type': 'application/json' });
      res.end('{"error":{"code":"unauthorized","message":"credentials required"}}');
      return;
    }
    const asset = STATUS_PAGE_ASSETS.get(path);
    if (path === '/') this.send(res, 'text/html; charset=utf-8', renderStatusPage(this.snapshot));
    else if (asset) this.send(res, asset.contentType, asset.body);
    else if (path === '/api/v1/server')
      this.json(res, { ...this.snapshot.server, startedAt: 0, now: this.snapshot.now });
    else if (path === '/api/v1/resources') this.json(res, { resources: this.snapshot.resources });
    else if (path === '/api/v1/events/stream') this.stream(res);
    else this.json(res, { error: { code: 'not-found', message: path } }, 404);
  }

  private send(res: ServerResponse, type: string, body: string, status = 200): void {
    res.writeHead(status, { 'content-type': type, 'content-security-policy': CSP, 'cache-control': 'no-store' });
    res.end(body);
  }

  private json(res: ServerResponse, body: unknown, status = 200): void {
    this.send(res, 'application/json; charset=utf-8', JSON.stringify(body), status);
  }

  private stream(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(': hello\n\n');
    this.streams.add(res);
    res.on('close', () => this.streams.delete(res));
  }
}
