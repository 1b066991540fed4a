import { expect } from 'chai';
import type { Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Secret, type LogFields, type Logger } from '@hafence/core';
import {
  connectionLimits,
  createAgentServer,
  HostAgent,
  NO_WATCHDOG,
  SimulatedWatchdog,
  type AgentHandlers,
  type PeerAnswer,
} from '@hafence/provider-kvm';
import { TestClock } from '@hafence/testkit';
import { MemFs, TEST_TOKEN } from './helpers/mem-fs.js';

const S = 1_000;

const handlers: AgentHandlers = {
  msRequest: () => {},
  health: () => ({ connected: true }),
  readHeartbeat: async () => ({ ok: false, reason: 'error', detail: 'n/a' }),
  volumes: async () => ({ volumes: [], truncated: false }),
  arm: async (armed, armGen) => ({ armGen: armGen ?? 1, armed, haEnabled: armed, watchdog: 'simulated' }),
  peerReach: async () => true,
  peerStatus: () => ({ host: 'h1', storageOk: true, msContactOk: true }),
};

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A raw client: what it received, and when the server closed the connection. */
interface Raw {
  readonly socket: Socket;
  received: string;
  closedAt?: number;
}

function raw(port: number, localAddress = '127.0.0.1'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const r = { received: '' } as Raw;
    const socket = connect({ port, host: '127.0.0.1', localAddress }, () => resolve(r));
    (r as { socket: Socket }).socket = socket;
    socket.setEncoding('utf8').on('data', (c: string) => {
      r.received += c;
    });
    socket.on('close', () => {
      r.closedAt = Date.now();
    });
    socket.on('error', () => {});
    socket.once('error', reject);
  });
}

async function until(what: string, ms: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('agent server: hardened against floods and misuse (SPEC §5.1)', () => {
  let server: Server | undefined;
  const clients: Socket[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    if (server) await close(server);
    server = undefined;
  });

  /** Records the server-side socket of every connection, for `bytesRead`. */
  function serverSockets(s: Server): Socket[] {
    const list: Socket[] = [];
    s.on('connection', (socket: Socket) => list.push(socket));
    return list;
  }

  it('answers 401 from the headers and closes the connection without reading a declared 10 MB body', async () => {
    server = createAgentServer(new Secret(TEST_TOKEN), handlers);
    const accepted = serverSockets(server);
    const port = await listen(server);
    const c = await raw(port);
    clients.push(c.socket);
    c.socket.write(`POST /arm HTTP/1.1\r\nHost: x\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`);
    // Push 2 MiB of the declared 10 MB: a server that reads the body waits for the rest
    // (until its 10 s request timeout); one that answers from the headers closes at once.
    let pushed = 0;
    const pusher = setInterval(() => {
      if (c.socket.writable && pushed < 32) c.socket.write(Buffer.alloc(64 * 1024, 0x20));
      pushed++;
    }, 10);
    try {
      await until(
        'the server closes the connection (long before its 10 s request timeout)',
        5_000,
        () => c.closedAt !== undefined,
      );
    } finally {
      clearInterval(pusher);
    }
    expect(c.received).to.match(/^HTTP\/1\.1 401 /);
    expect(c.received.toLowerCase()).to.include('connection: close');
    expect(accepted[0]!.bytesRead, 'bytes the server read').to.be.below(1024 * 1024);
  });

  it('refuses an authenticated body over MAX_BODY (64 KiB) with 413 before reading it', async () => {
    server = createAgentServer(new Secret(TEST_TOKEN), handlers);
    const port = await listen(server);
    const c = await raw(port);
    clients.push(c.socket);
    c.socket.write(
      `POST /arm HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_TOKEN}\r\nContent-Length: 5000000\r\n\r\n`,
    );
    await until('the server closes the connection', 2_000, () => c.closedAt !== undefined);
    expect(c.received).to.match(/^HTTP\/1\.1 413 /);
  });

  it('caps connections per source address: refused at once when told to, other addresses still served', async () => {
    server = createAgentServer(new Secret(TEST_TOKEN), handlers, {
      limits: { maxConnections: 10, maxPerAddress: 2, atAddressCap: 'refuse' },
    });
    const port = await listen(server);
    const from5 = [await raw(port, '127.0.0.5'), await raw(port, '127.0.0.5'), await raw(port, '127.0.0.5')];
    const from6 = await raw(port, '127.0.0.6');
    clients.push(...from5.map((c) => c.socket), from6.socket);
    await until('the third connection from 127.0.0.5 is closed', 1_000, () => from5[2]!.closedAt !== undefined);
    await new Promise((r) => setTimeout(r, 100));
    expect(from5.map((c) => c.closedAt === undefined)).to.deep.equal([true, true, false]);
    from6.socket.write(`GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_TOKEN}\r\n\r\n`);
    await until('health answered', 1_000, () => from6.received.includes('"connected":true'));
    expect(from6.received).to.match(/^HTTP\/1\.1 200 /);
  });

  it("by default a new connection at the per-address cap evicts that address only's oldest idle one", async () => {
    server = createAgentServer(new Secret(TEST_TOKEN), handlers, { limits: { maxConnections: 10, maxPerAddress: 2 } });
    const port = await listen(server);
    const from5 = [await raw(port, '127.0.0.5'), await raw(port, '127.0.0.5'), await raw(port, '127.0.0.5')];
    const from6 = await raw(port, '127.0.0.6');
    clients.push(...from5.map((c) => c.socket), from6.socket);
    await until('the oldest connection from 127.0.0.5 is evicted', 1_000, () => from5[0]!.closedAt !== undefined);
    await new Promise((r) => setTimeout(r, 100));
    expect(from5.map((c) => c.closedAt === undefined)).to.deep.equal([false, true, true]);
    expect(from6.closedAt).to.equal(undefined);
    from6.socket.write(`GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_TOKEN}\r\n\r\n`);
    await until('health answered', 1_000, () => from6.received.includes('"connected":true'));
    expect(from6.received).to.match(/^HTTP\/1\.1 200 /);
  });

  it('at the total cap, evicts the oldest idle connection for a new one: idle floods cannot lock out a management server', async () => {
    server = createAgentServer(new Secret(TEST_TOKEN), handlers, { limits: { maxConnections: 4, maxPerAddress: 4 } });
    const port = await listen(server);
    const flood: Raw[] = [];
    for (let i = 0; i < 4; i++) flood.push(await raw(port, '127.0.0.7'));
    const ms = await raw(port, '127.0.0.8');
    clients.push(...flood.map((c) => c.socket), ms.socket);
    await until('the oldest idle connection is evicted', 1_000, () => flood[0]!.closedAt !== undefined);
    ms.socket.write(`GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_TOKEN}\r\n\r\n`);
    await until('health answered', 1_000, () => ms.received.includes('"connected":true'));
    expect(flood.slice(1).map((c) => c.closedAt)).to.deep.equal([undefined, undefined, undefined]);
  });

  it('logs failed authentications with the source address, at most one line per address per minute, never the token', async () => {
    const clock = new TestClock();
    const lines: { message: string; fields: LogFields }[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      error() {},
      warn: (message, fields) => lines.push({ message, fields: fields ?? {} }),
    };
    server = createAgentServer(new Secret(TEST_TOKEN), handlers, { logger, clock });
    const port = await listen(server);
    const bad = (localAddress: string, auth?: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = connect({ port, host: '127.0.0.1', localAddress }, () => {
          socket.write(`GET /health HTTP/1.1\r\nHost: x\r\n${auth ? `Authorization: Bearer ${auth}\r\n` : ''}\r\n`);
        });
        let text = '';
        socket
          .setEncoding('utf8')
          .on('data', (c: string) => {
            text += c;
          })
          .on('close', () => resolve(Number(text.slice(9, 12))))
          .on('error', reject);
      });
    for (let i = 0; i < 5; i++) expect(await bad('127.0.0.3', 'wrong-token-xyz')).to.equal(401);
    expect(await bad('127.0.0.4')).to.equal(401);
    const auth = () => lines.filter((l) => l.message.includes('authentication failed'));
    expect(auth().map((l) => l.fields)).to.deep.equal([
      { source: '127.0.0.3', reason: 'wrong token', failures: 1 },
      { source: '127.0.0.4', reason: 'missing token', failures: 1 },
    ]);
    await clock.advance(61 * S);
    await bad('127.0.0.3', 'wrong-token-xyz');
    expect(
      lines.find((l) => l.message.includes('not logged'))?.fields,
      'the failures not logged are counted',
    ).to.deep.equal({ count: 4, windowMs: 60 * S });
    expect(auth().at(-1)!.fields).to.deep.equal({ source: '127.0.0.3', reason: 'wrong token', failures: 1 });
    expect(auth()).to.have.length(3);
    expect(JSON.stringify(lines)).to.not.include('wrong-token-xyz');
    expect(JSON.stringify(lines)).to.not.include(TEST_TOKEN);
  });

  it('rate-limits the log across addresses too: a flood from many addresses logs at most 20 lines a minute, then a count', async () => {
    const clock = new TestClock();
    const lines: { message: string; fields: LogFields }[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      error() {},
      warn: (message, fields) => lines.push({ message, fields: fields ?? {} }),
    };
    server = createAgentServer(new Secret(TEST_TOKEN), handlers, {
      logger,
      clock,
      limits: { maxConnections: 64, maxPerAddress: 4 },
    });
    const port = await listen(server);
    await Promise.all(
      Array.from(
        { length: 30 },
        (_, i) =>
          new Promise<void>((resolve) => {
            const socket = connect({ port, host: '127.0.0.1', localAddress: `127.0.1.${i + 1}` }, () =>
              socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'),
            );
            socket
              .on('close', () => resolve())
              .on('error', () => resolve())
              .resume();
          }),
      ),
    );
    expect(lines.filter((l) => l.message.includes('authentication failed'))).to.have.length(20);
    await clock.advance(61 * S);
    await new Promise<void>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1', localAddress: '127.0.1.99' }, () =>
        socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'),
      );
      socket.on('close', () => resolve()).resume();
    });
    expect(lines.find((l) => l.message.includes('not logged'))?.fields).to.include({ count: 10 });
  });
});

describe('connection limits: descriptors kept in reserve for the heartbeat', () => {
  it('defaults the total cap to the soft descriptor limit minus 64, at most 256; refuses a cap that eats the reserve', () => {
    expect(connectionLimits(256)).to.deep.equal({ maxConnections: 192, maxPerAddress: 16 });
    expect(connectionLimits(65536)).to.deep.equal({ maxConnections: 256, maxPerAddress: 16 });
    expect(() => connectionLimits(256, 250))
      .to.throw()
      .with.property('code', 'HAF5103');
    expect(() => connectionLimits(64))
      .to.throw()
      .with.property('code', 'HAF5103');
    expect(() => connectionLimits(1024, 10, 11))
      .to.throw()
      .with.property('code', 'HAF5103');
  });
});

describe('host agent: its own trouble is never isolation (SPEC §5.1)', () => {
  let agent: HostAgent | undefined;
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
  });

  function start(options: { failWith: string; peers?: PeerAnswer[] }) {
    const clock = new TestClock();
    const fs = new MemFs();
    const watchdog = new SimulatedWatchdog(clock, 15 * S);
    agent = new HostAgent({
      hostId: 'h1',
      mount: '/mnt/pool',
      token: new Secret(TEST_TOKEN),
      watchdog,
      clock,
      fs,
      heartbeatIntervalMs: 10 * S,
      selfFenceAfterMs: 60 * S,
      armed: true,
      peerProbe: async () => options.peers ?? [],
      readFs: {
        readdir: async () => [],
        readFile: async () => {
          throw Object.assign(new Error('missing'), { code: 'ENOENT' });
        },
      },
    });
    fs.failWith = options.failWith;
    return { clock, watchdog, agent };
  }

  for (const errno of ['EMFILE', 'ENFILE', 'ENOMEM', 'ENOSPC']) {
    it(`${errno} on every heartbeat write, no management server, no peers: holds, keeps feeding the watchdog, says why`, async () => {
      const r = start({ failWith: errno });
      const base = `http://127.0.0.1:${(await r.agent.start()).port}`;
      await r.clock.advance(10 * 60 * S);
      expect(r.agent.status().selfFenced).to.equal(false);
      expect(r.agent.status().lastVerdict).to.deep.include({ kind: 'holding' });
      expect(r.agent.status().lastVerdict!.reason).to.include(errno);
      expect(r.watchdog.expiredAt).to.equal(undefined);
      const health = (await (
        await fetch(`${base}/health`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } })
      ).json()) as { storageOk: boolean; detail: string };
      expect(health.storageOk).to.equal(false);
      expect(health.detail).to.include('local resource error').and.include(errno);
    });
  }

  it('a peer that could not be asked for lack of descriptors is no evidence: storage lost (EIO), it holds', async () => {
    const r = start({
      failWith: 'EIO',
      peers: [
        { host: 'h2', failure: 'local', errno: 'EMFILE' },
        { host: 'h3', failure: 'network', errno: 'ECONNREFUSED' },
      ],
    });
    await r.agent.start();
    await r.clock.advance(5 * 60 * S);
    expect(r.agent.status().selfFenced).to.equal(false);
    expect(r.agent.status().lastVerdict).to.deep.include({ kind: 'holding' });
  });

  it('every configured peer unreachable on the network, storage lost (EIO), no management server: positive evidence, it self-fences', async () => {
    const r = start({
      failWith: 'EIO',
      peers: [
        { host: 'h2', failure: 'network', errno: 'ETIMEDOUT' },
        { host: 'h3', failure: 'network', errno: 'ECONNREFUSED' },
      ],
    });
    await r.agent.start();
    await r.clock.advance(70 * S);
    expect(r.agent.status().selfFenced).to.equal(true);
    expect(r.agent.status().lastVerdict!.reason).to.include('2 of 2 peers unreachable');
  });
});

describe('host agent: POST /arm tells the truth', () => {
  it('without a watchdog, arming answers armed: false (HA enabled, lease unarmed) and says why', async () => {
    const agent = new HostAgent({
      hostId: 'h1',
      mount: '/mnt/pool',
      token: new Secret(TEST_TOKEN),
      watchdog: NO_WATCHDOG,
      clock: new TestClock(),
      fs: new MemFs(),
      readFs: {
        readdir: async () => [],
        readFile: async () => {
          throw Object.assign(new Error('missing'), { code: 'ENOENT' });
        },
      },
    });
    const base = `http://127.0.0.1:${(await agent.start()).port}`;
    try {
      const res = await fetch(`${base}/arm`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_TOKEN}` },
        body: JSON.stringify({ armed: true, armGen: 3 }),
      });
      expect(res.status).to.equal(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).to.include({ armed: false, haEnabled: true, armGen: 3, watchdog: 'none' });
      expect(body.detail).to.be.a('string');
    } finally {
      await agent.stop();
    }
  });
});
