import { expect } from 'chai';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthError, HaError, ProtocolError, Secret, type Logger } from '@hafence/core';
import {
  AgentConfigError,
  HostAgent,
  HttpAgentConnectivity,
  SimulatedWatchdog,
  agentRequest,
  createAgentServer,
  type AgentClientTls,
  type AgentHandlers,
  type AgentServerTls,
} from '@hafence/provider-kvm';
import { TestClock } from '@hafence/testkit';
import { MemFs } from './helpers/mem-fs.js';
import { makeTestPki, type TestPki } from '@hafence/testkit';

const MS_TOKEN = new Secret('ms-token-0123456789abcdef');
const PEER_TOKEN = new Secret('peer-token-fedcba9876543210');
const OTHER = new Secret('not-a-token-of-this-agent-42');

/** Handlers that count what the server asked of them. */
function spyHandlers() {
  const calls = { msRequest: 0, health: 0, arm: 0, readHeartbeat: 0, peerReach: 0, peerStatus: 0, volumes: 0 };
  const handlers: AgentHandlers = {
    msRequest: () => {
      calls.msRequest++;
    },
    health: () => {
      calls.health++;
      return { connected: true, storageOk: true };
    },
    readHeartbeat: async () => {
      calls.readHeartbeat++;
      return { ok: false, reason: 'no-heartbeat', detail: 'none yet' };
    },
    arm: async (armed, armGen) => {
      calls.arm++;
      return { armGen: armGen ?? 1, armed, haEnabled: armed, watchdog: 'none' };
    },
    peerReach: async () => {
      calls.peerReach++;
      return true;
    },
    peerStatus: () => {
      calls.peerStatus++;
      return { host: 'h1', storageOk: true, msContactOk: true };
    },
    volumes: async () => {
      calls.volumes++;
      return { volumes: [{ vm: 'vm1', volume: '/mnt/pool/vm1.img' }], truncated: false };
    },
  };
  return { calls, handlers };
}

function recordingLogger(lines: { msg: string; fields: Record<string, unknown> }[]): Logger {
  const log = (msg: string, fields?: Record<string, unknown>) => {
    lines.push({ msg, fields: fields ?? {} });
  };
  return { debug: log, info: log, warn: log, error: log } as unknown as Logger;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function close(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

async function failure(p: Promise<unknown>): Promise<HaError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the request must fail').to.be.instanceOf(HaError);
  return err as HaError;
}

describe('agent server: TLS and the split token (issue 9)', function () {
  this.timeout(30_000);
  let pki: TestPki;
  const servers: Server[] = [];

  before(() => {
    pki = makeTestPki();
  });
  after(() => pki.remove());
  afterEach(async () => {
    await Promise.all(servers.splice(0).map(close));
  });

  function serverTls(clientCa?: string): AgentServerTls {
    return { cert: pki.server.cert, key: new Secret(pki.server.key), clientCa };
  }

  async function start(options: Parameters<typeof createAgentServer>[2] = {}) {
    const spy = spyHandlers();
    const lines: { msg: string; fields: Record<string, unknown> }[] = [];
    const server = createAgentServer(MS_TOKEN, spy.handlers, { logger: recordingLogger(lines), ...options });
    servers.push(server);
    const port = await listen(server);
    return { ...spy, lines, port };
  }

  const call = <T>(
    url: string,
    path: string,
    token: Secret,
    tls?: AgentClientTls,
    method: 'GET' | 'POST' = 'GET',
    body?: unknown,
  ) => agentRequest<T>('h1', url, path, token, { method, body, timeoutMs: 5_000, tls });

  describe('HTTPS', () => {
    it('answers health over HTTPS to a client that verifies it with the CA', async () => {
      const { port, calls } = await start({ tls: serverTls() });
      const health = await call<{ connected: boolean }>(`https://127.0.0.1:${port}`, '/health', MS_TOKEN, {
        ca: pki.ca,
      });
      expect(health.connected).to.equal(true);
      expect(calls.msRequest).to.equal(1);
    });

    it('a certificate from another CA: a typed error naming the host, and nothing reaches the agent (no plaintext fallback)', async () => {
      const { port, calls } = await start({ tls: serverTls() });
      const err = await failure(call(`https://127.0.0.1:${port}`, '/health', MS_TOKEN, { ca: pki.otherCa }));
      expect(err).to.be.instanceOf(AuthError);
      expect(err.code).to.equal('HAF1001');
      expect((err as AuthError).host).to.equal('h1');
      expect(err.message).to.include(`https://127.0.0.1:${port}`).and.to.not.include('fetch failed');
      expect(calls.health + calls.msRequest).to.equal(0);
    });

    it('without any CA an agent certificate from a private CA is not trusted (the system CAs do not know it)', async () => {
      const { port, calls } = await start({ tls: serverTls() });
      const err = await failure(call(`https://127.0.0.1:${port}`, '/health', MS_TOKEN));
      expect(err).to.be.instanceOf(AuthError);
      expect(calls.health).to.equal(0);
    });

    it('requires a client certificate signed by the client CA when one is configured', async () => {
      const { port, calls } = await start({ tls: serverTls(pki.ca) });
      const url = `https://127.0.0.1:${port}`;
      const err = await failure(call(url, '/health', MS_TOKEN, { ca: pki.ca }));
      expect(err).to.be.instanceOf(AuthError);
      expect(calls.health).to.equal(0);
      const health = await call<{ connected: boolean }>(url, '/health', MS_TOKEN, {
        ca: pki.ca,
        cert: pki.client.cert,
        key: new Secret(pki.client.key),
      });
      expect(health.connected).to.equal(true);
      expect(calls.health).to.equal(1);
    });

    it('a client certificate is not a token: a valid one with a wrong token is still 401', async () => {
      const { port, calls } = await start({ tls: serverTls(pki.ca) });
      const err = await failure(
        call(`https://127.0.0.1:${port}`, '/health', OTHER, {
          ca: pki.ca,
          cert: pki.client.cert,
          key: new Secret(pki.client.key),
        }),
      );
      expect(err).to.be.instanceOf(AuthError);
      expect(err.message).to.include('token refused');
      expect(calls.health + calls.msRequest).to.equal(0);
    });
  });

  describe('the peer token', () => {
    for (const route of [
      ['POST', '/arm', { armed: false, armGen: 9 }],
      ['GET', '/health', undefined],
    ] as const) {
      it(`is refused on ${route[0]} ${route[1]} (403, logged), and it is not management-server contact`, async () => {
        const { port, calls, lines } = await start({ peerToken: PEER_TOKEN });
        const err = await failure(
          call(
            `http://127.0.0.1:${port}`,
            route[1],
            PEER_TOKEN,
            undefined,
            route[0],
            route[1] === '/arm' ? route[2] : undefined,
          ),
        );
        expect(err).to.be.instanceOf(AuthError);
        expect(err.message).to.include('not allowed');
        expect(calls.arm + calls.health + calls.msRequest).to.equal(0);
        const logged = lines.filter((l) => l.msg === 'agent: authentication failed');
        expect(logged).to.have.length(1);
        expect(logged[0]!.fields.reason).to.equal('peer token on a management-server route');
        expect(JSON.stringify(lines)).to.not.include(PEER_TOKEN.reveal());
      });
    }

    it('answers 403 with a JSON error body on /arm', async () => {
      const { port } = await start({ peerToken: PEER_TOKEN });
      const res = await fetch(`http://127.0.0.1:${port}/arm`, {
        method: 'POST',
        headers: { authorization: `Bearer ${PEER_TOKEN.reveal()}` },
        body: '{"armed":false}',
      });
      expect(res.status).to.equal(403);
      expect(res.headers.get('content-type')).to.equal('application/json');
      expect(((await res.json()) as { error: string }).error).to.be.a('string');
    });

    it('is accepted on /peer/status, /read-heartbeat and /peer-reach, none of them management-server contact', async () => {
      const { port, calls } = await start({ peerToken: PEER_TOKEN });
      const url = `http://127.0.0.1:${port}`;
      expect((await call<{ host: string }>(url, '/peer/status', PEER_TOKEN)).host).to.equal('h1');
      expect(
        (
          await call<{ ok: boolean }>(url, '/read-heartbeat', PEER_TOKEN, undefined, 'POST', {
            suspect: 'h2',
            windowMs: 0,
          })
        ).ok,
      ).to.equal(false);
      expect(
        (await call<{ reachable: boolean }>(url, '/peer-reach', PEER_TOKEN, undefined, 'POST', { suspect: 'h2' }))
          .reachable,
      ).to.equal(true);
      expect(calls).to.include({ peerStatus: 1, readHeartbeat: 1, peerReach: 1, msRequest: 0 });
    });

    it('the management-server token works everywhere and counts as contact', async () => {
      const { port, calls } = await start({ peerToken: PEER_TOKEN });
      const url = `http://127.0.0.1:${port}`;
      await call(url, '/health', MS_TOKEN);
      await call(url, '/arm', MS_TOKEN, undefined, 'POST', { armed: true, armGen: 3 });
      await call(url, '/read-heartbeat', MS_TOKEN, undefined, 'POST', { suspect: 'h2', windowMs: 0 });
      await call(url, '/peer-reach', MS_TOKEN, undefined, 'POST', { suspect: 'h2' });
      await call(url, '/peer/status', MS_TOKEN);
      expect(calls).to.include({ health: 1, arm: 1, readHeartbeat: 1, peerReach: 1, peerStatus: 1, msRequest: 4 });
    });

    it('GET /volumes, like any route that is not a peer route, is management-server only: 403 with the peer token', async () => {
      const { port, calls } = await start({ peerToken: PEER_TOKEN });
      const res = await fetch(`http://127.0.0.1:${port}/volumes`, {
        headers: { authorization: `Bearer ${PEER_TOKEN.reveal()}` },
      });
      expect(res.status).to.equal(403);
      expect(calls.volumes).to.equal(0);
      const ok = await fetch(`http://127.0.0.1:${port}/volumes`, {
        headers: { authorization: `Bearer ${MS_TOKEN.reveal()}` },
      });
      expect(ok.status).to.equal(200);
      expect(calls).to.include({ volumes: 1, msRequest: 1 });
    });

    it('without a peer token, the one token works on every route (backward compatible)', async () => {
      const { port, calls } = await start();
      await call(`http://127.0.0.1:${port}`, '/arm', MS_TOKEN, undefined, 'POST', { armed: true });
      expect(calls.arm).to.equal(1);
      await failure(call(`http://127.0.0.1:${port}`, '/arm', PEER_TOKEN, undefined, 'POST', { armed: true }));
    });
  });

  describe('the host agent', () => {
    const agents: HostAgent[] = [];
    afterEach(async () => {
      await Promise.all(agents.splice(0).map((a) => a.stop()));
    });

    function agent(
      hostId: string,
      extra: Partial<ConstructorParameters<typeof HostAgent>[0]> = {},
      lines?: { msg: string; fields: Record<string, unknown> }[],
    ) {
      const clock = new TestClock();
      const a = new HostAgent({
        hostId,
        mount: '/mnt/pool',
        token: MS_TOKEN,
        watchdog: new SimulatedWatchdog(clock),
        clock,
        fs: new MemFs(),
        logger: lines ? recordingLogger(lines) : undefined,
        ...extra,
      });
      agents.push(a);
      return a;
    }

    it("the management server's HTTP ports reach an HTTPS agent that requires client certificates, and report a wrong CA as not connected", async () => {
      const a = await agent('h1', { peerToken: PEER_TOKEN, tls: serverTls(pki.ca) }).start();
      const agents = { h1: `https://127.0.0.1:${a.port}` };
      const signal = new AbortController().signal;
      const ok = new HttpAgentConnectivity({
        agents,
        token: MS_TOKEN,
        tls: { ca: pki.ca, cert: pki.client.cert, key: new Secret(pki.client.key) },
      });
      expect((await ok.health('h1', signal)).connected).to.equal(true);
      await ok.setArmed('h1', { armed: false, armGen: 5 }, signal);
      const wrongCa = new HttpAgentConnectivity({
        agents,
        token: MS_TOKEN,
        tls: { ca: pki.otherCa, cert: pki.client.cert, key: new Secret(pki.client.key) },
      });
      const health = await wrongCa.health('h1', signal);
      expect(health.connected).to.equal(false);
      expect(health.detail).to.include('h1').and.include('not verified');
    });

    it('refuses the same token as management-server and peer token', () => {
      expect(() => agent('h1', { peerToken: new Secret(MS_TOKEN.reveal()) }))
        .to.throw(AgentConfigError)
        .with.property('code', 'HAF5103');
    });

    it('warns once at start when there is no peer token, and not when there is one', async () => {
      const without: { msg: string; fields: Record<string, unknown> }[] = [];
      await agent('h1', {}, without).start();
      expect(without.filter((l) => l.msg.startsWith('no peer token'))).to.have.length(1);
      const withPeer: { msg: string; fields: Record<string, unknown> }[] = [];
      await agent('h2', { peerToken: PEER_TOKEN }, withPeer).start();
      expect(withPeer.filter((l) => l.msg.startsWith('no peer token'))).to.have.length(0);
    });

    it('asks its HTTPS peers with the peer token, the CA and its own certificate (the peer requires client certificates)', async () => {
      const tls = serverTls(pki.ca);
      const b = await agent('h2', { peerToken: PEER_TOKEN, tls }).start();
      const peers = { h2: `https://127.0.0.1:${b.port}` };
      const a = await agent('h1', {
        peerToken: PEER_TOKEN,
        tls,
        peers,
        peerTls: { ca: pki.ca, cert: pki.server.cert, key: new Secret(pki.server.key) },
      }).start();
      const client = { ca: pki.ca, cert: pki.client.cert, key: new Secret(pki.client.key) };
      const reach = await call<{ reachable: boolean }>(
        `https://127.0.0.1:${a.port}`,
        '/peer-reach',
        MS_TOKEN,
        client,
        'POST',
        { suspect: 'h2' },
      );
      expect(reach.reachable).to.equal(true);
      // The same agent without its certificate towards peers cannot reach h2.
      const c = await agent('h3', { peerToken: PEER_TOKEN, tls, peers, peerTls: { ca: pki.ca } }).start();
      const unreached = await call<{ reachable: boolean }>(
        `https://127.0.0.1:${c.port}`,
        '/peer-reach',
        MS_TOKEN,
        client,
        'POST',
        { suspect: 'h2' },
      );
      expect(unreached.reachable).to.equal(false);
    });
  });

  describe("the client caps an agent's answer", () => {
    async function hostile(handler: Parameters<typeof createHttpServer>[1]): Promise<string> {
      const server = createHttpServer(handler);
      servers.push(server);
      return `http://127.0.0.1:${await listen(server)}`;
    }

    it('an answer streaming without end is a ProtocolError once over the cap', async () => {
      const url = await hostile((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      });
      const err = await failure(
        agentRequest('h1', url, '/health', MS_TOKEN, { method: 'GET', timeoutMs: 10_000, maxAnswerBytes: 256 * 1024 }),
      );
      expect(err).to.be.instanceOf(ProtocolError);
      expect(err.code).to.equal('HAF1004');
    });

    it('an answer declaring more than 1 MiB is a ProtocolError (default cap) without reading it', async () => {
      const url = await hostile((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 * 1024 * 1024 });
        res.write('{"connected":');
      });
      const err = await failure(agentRequest('h1', url, '/health', MS_TOKEN, { method: 'GET', timeoutMs: 10_000 }));
      expect(err).to.be.instanceOf(ProtocolError);
    });

    it('an answer under the cap is read whole', async () => {
      const url = await hostile((_req, res) => {
        const text = JSON.stringify({ connected: true, detail: 'x'.repeat(200_000) });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      });
      const health = await agentRequest<{ detail: string }>('h1', url, '/health', MS_TOKEN, {
        method: 'GET',
        timeoutMs: 10_000,
      });
      expect(health.detail).to.have.length(200_000);
    });
  });
});
