import { expect } from 'chai';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Secret } from '@hafence/core';
import {
  AGENT_CLIENT_MAX_IDLE_MS,
  AGENT_KEEP_ALIVE_MS,
  HttpAgentConnectivity,
  agentClientIdleMs,
  agentRequest,
  createAgentServer,
  type AgentHandlers,
} from '@hafence/provider-kvm';
import { TEST_TOKEN } from './helpers/mem-fs.js';

const handlers: AgentHandlers = {
  msRequest: () => {},
  health: () => ({ connected: true }),
  readHeartbeat: async () => ({ ok: false, reason: 'error', detail: 'n/a' }),
  volumes: async () => ({ volumes: [], truncated: false }),
  arm: async (armed, armGen) => ({ armGen: armGen ?? 1, armed, haEnabled: armed, watchdog: 'simulated' }),
  peerReach: async () => true,
  peerStatus: () => ({ host: 'h1', storageOk: true, msContactOk: true }),
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A real agent server on loopback that counts the TCP connections it accepted. */
async function agentServer(keepAliveTimeoutMs?: number): Promise<{ server: Server; url: string; sockets: Socket[] }> {
  const server = createAgentServer(new Secret(TEST_TOKEN), handlers, { keepAliveTimeoutMs });
  const sockets: Socket[] = [];
  server.on('connection', (s: Socket) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets };
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

describe('agent HTTP keep-alive: one connection per host across checks', function () {
  this.timeout(30_000);
  let server: Server | undefined;
  afterEach(async () => {
    if (server) await close(server);
    server = undefined;
  });

  it('the defaults are consistent: agent keep-alive > client idle > health interval', () => {
    expect(agentClientIdleMs(10_000)).to.equal(20_000); // the default health check interval
    expect(agentClientIdleMs(1_000)).to.equal(15_000);
    expect(agentClientIdleMs(45_000)).to.equal(AGENT_CLIENT_MAX_IDLE_MS);
    expect(AGENT_KEEP_ALIVE_MS).to.be.greaterThan(AGENT_CLIENT_MAX_IDLE_MS + 1_000);
  });

  it('K health checks 6 s apart (over the old 5 s keep-alive) over a real agent server use one TCP connection', async () => {
    const agent = await agentServer();
    server = agent.server;
    const ports = new HttpAgentConnectivity({
      agents: { h1: agent.url },
      token: new Secret(TEST_TOKEN),
      keepAliveMs: agentClientIdleMs(6_000),
    });
    for (let i = 0; i < 3; i++) {
      if (i > 0) await sleep(6_000);
      const health = await ports.health('h1', new AbortController().signal);
      expect(health.connected, health.detail).to.equal(true);
    }
    expect(agent.sockets).to.have.length(1);
    // The agent announces its keep-alive: longer than any client keeps a connection idle.
    const res = await fetchHeaders(agent.url);
    expect(res).to.match(/keep-alive: timeout=65/i);
  });

  it('an idle connection the agent closed is not a failed check (sent again once on a new connection)', async () => {
    const agent = await agentServer();
    server = agent.server;
    const call = () =>
      agentRequest<{ connected: boolean }>('h1', agent.url, '/health', new Secret(TEST_TOKEN), {
        method: 'GET',
        timeoutMs: 5_000,
        keepAliveMs: 15_000,
      });
    expect((await call()).connected).to.equal(true);
    // The agent drops the next request on the kept connection without answering: the keep-alive race.
    const kept = agent.sockets[0]!;
    server.prependOnceListener('request', (req: { socket: Socket }) => {
      if (req.socket === kept) kept.destroy();
    });
    expect((await call()).connected).to.equal(true);
    expect(agent.sockets).to.have.length(2);
  });

  it('a POST on a connection the agent closed is not sent twice (only a GET is)', async () => {
    const agent = await agentServer();
    server = agent.server;
    let arms = 0;
    server.on('request', (req: { url?: string }) => {
      if (req.url === '/arm') arms++;
    });
    const arm = () =>
      agentRequest('h1', agent.url, '/arm', new Secret(TEST_TOKEN), {
        method: 'POST',
        body: { armed: true, armGen: 1 },
        timeoutMs: 5_000,
        keepAliveMs: 15_000,
      });
    await arm();
    const kept = agent.sockets[0]!;
    server.prependOnceListener('request', (req: { socket: Socket }) => {
      if (req.socket === kept) kept.destroy();
    });
    const err = await arm().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(Error);
    expect((err as { code?: string }).code).to.equal('HAF1003'); // UnreachableError
    expect(arms).to.equal(2);
  });

  it('a client idle timeout below the agent keep-alive closes the connection first: no failed check after it', async () => {
    const agent = await agentServer(3_000);
    server = agent.server;
    const call = () =>
      agentRequest<{ connected: boolean }>('h1', agent.url, '/health', new Secret(TEST_TOKEN), {
        method: 'GET',
        timeoutMs: 5_000,
        keepAliveMs: 1_000,
      });
    expect((await call()).connected).to.equal(true);
    await sleep(1_500); // the client let its idle connection go
    expect((await call()).connected).to.equal(true);
    expect(agent.sockets).to.have.length(2);
    expect(agent.sockets[0]!.destroyed).to.equal(true);
  });
});

/** The raw response head of one authenticated GET /health. */
async function fetchHeaders(url: string): Promise<string> {
  const res = await fetch(`${url}/health`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
  await res.arrayBuffer();
  return [...res.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n');
}
