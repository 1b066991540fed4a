import { expect } from 'chai';
import { createServer, type Server, type Socket } from 'node:net';
import { ProtocolError, Secret, TimeoutError, UnreachableError } from '@hafence/core';
import { agentRequest, closeIdleAgentConnections } from '@hafence/provider-kvm';
import { readRequests } from './helpers/raw-http.js';

const TOKEN = new Secret('wire-token-5f1d0c');

/**
 * A raw TCP server that answers each request it reads with `answer(n)` (the n-th request of the server, from 0),
 * written as given (or in the pieces of an array, a few ms apart). It records request heads and connections.
 */
function rawAgent(answer: (n: number, socket: Socket) => string | string[] | undefined): {
  server: Server;
  heads: string[];
  connections: Socket[];
  url: () => string;
} {
  const heads: string[] = [];
  const connections: Socket[] = [];
  const server = createServer((socket) => {
    connections.push(socket);
    readRequests(socket, (head) => {
      const out = answer(heads.length, socket);
      heads.push(head);
      if (out === undefined) return;
      const pieces = Array.isArray(out) ? out : [out];
      pieces.forEach((piece, i) => setTimeout(() => socket.destroyed || socket.write(piece), i * 5));
    });
  });
  return {
    server,
    heads,
    connections,
    url: () => `http://127.0.0.1:${(server.address() as { port: number }).port}`,
  };
}

const ok = (body: string, extra = '') =>
  `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

describe('agent client wire: answers read from the socket, hostile ones refused with a typed error', () => {
  let agent: ReturnType<typeof rawAgent>;
  const start = async (answer: Parameters<typeof rawAgent>[0]) => {
    agent = rawAgent(answer);
    await new Promise<void>((r) => agent.server.listen(0, '127.0.0.1', r));
  };
  afterEach(async () => {
    closeIdleAgentConnections();
    for (const s of agent.connections) s.destroy();
    await new Promise((r) => agent.server.close(r));
  });
  const get = (o: { timeoutMs?: number; maxAnswerBytes?: number; signal?: AbortSignal; token?: Secret } = {}) =>
    agentRequest<unknown>('h1', agent.url(), '/health?x=1', o.token ?? TOKEN, {
      method: 'GET',
      timeoutMs: o.timeoutMs ?? 3_000,
      keepAliveMs: 20_000,
      ...(o.maxAnswerBytes ? { maxAnswerBytes: o.maxAnswerBytes } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
  const failure = (p: Promise<unknown>) =>
    p.then(
      (v) => expect.fail(`answered ${JSON.stringify(v)}`),
      (e: Error) => e,
    );

  it('sends one well-formed request: method, path with query, host, bearer token, keep-alive', async () => {
    await start(() => ok('{"a":1}'));
    expect(await get()).to.deep.equal({ a: 1 });
    const [line, ...headers] = agent.heads[0]!.split('\r\n');
    expect(line).to.equal('GET /health?x=1 HTTP/1.1');
    expect(headers).to.include(`Host: ${agent.url().slice('http://'.length)}`);
    expect(headers).to.include(`Authorization: Bearer ${TOKEN.reveal()}`);
    expect(headers).to.include('Connection: keep-alive');
  });

  it('keeps one connection across requests; two requests at once use two connections', async () => {
    await start(() => ok('{"a":1}'));
    for (let i = 0; i < 5; i++) await get();
    expect(agent.connections).to.have.length(1);
    await Promise.all([get(), get()]);
    expect(agent.connections).to.have.length(2);
    expect(agent.heads).to.have.length(7);
  });

  it('reads a body that arrives in pieces, a chunked body (with extensions and trailers) and skips a 100 Continue', async () => {
    await start((n) =>
      n === 0
        ? ['HTTP/1.1 200 OK\r\nContent-Le', 'ngth: 9\r\n\r\n{"a"', ':"b"}']
        : n === 1
          ? [
              'HTTP/1.1 100 Continue\r\n\r\n',
              'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\n{"a"\r\n',
              '5\r\n:"cd"\r\n1\r\n}\r\n0\r\nX-Trailer: 1\r\n\r\n',
            ]
          : ok('{"n":3}'),
    );
    expect(await get()).to.deep.equal({ a: 'b' });
    expect(await get()).to.deep.equal({ a: 'cd' });
    expect(await get()).to.deep.equal({ n: 3 });
    expect(agent.connections, 'every answer was framed: the connection was kept').to.have.length(1);
  });

  it('a chunked body of 3,000 one-byte chunks is read whole (one growing buffer)', async () => {
    const text = JSON.stringify({ pad: 'y'.repeat(2_990) });
    await start(() => [
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
      [...text].map((c) => `1\r\n${c}\r\n`).join('') + '0\r\n\r\n',
    ]);
    expect(await get()).to.deep.equal(JSON.parse(text));
  });

  it('a body without a length runs to the close, and the connection is not reused', async () => {
    await start((_n, socket) => {
      setTimeout(() => socket.end('HTTP/1.1 200 OK\r\n\r\n{"closed":true}'), 1);
      return undefined;
    });
    expect(await get()).to.deep.equal({ closed: true });
    expect(await get()).to.deep.equal({ closed: true });
    expect(agent.connections).to.have.length(2);
  });

  it('bytes beyond the answer, or "Connection: close", end the connection after the answer', async () => {
    await start((n) => (n === 0 ? ok('{"a":1}') + 'HTTP/1.1 200 OK\r\n' : ok('{"a":2}', 'Connection: close\r\n')));
    expect(await get()).to.deep.equal({ a: 1 });
    expect(await get()).to.deep.equal({ a: 2 });
    expect(await get()).to.deep.equal({ a: 2 });
    expect(agent.connections).to.have.length(3);
  });

  const hostile: [string, string | string[], RegExp][] = [
    ['no status line', 'SSH-2.0-OpenSSH_9.2\r\n\r\n', /HTTP\/1\.x status line/],
    ['an HTTP/2 status line', 'HTTP/2 200\r\n\r\n', /HTTP\/1\.x status line/],
    ['a header without a colon', 'HTTP/1.1 200 OK\r\nContent-Length 2\r\n\r\n{}', /header is malformed/],
    ['a folded header', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\nContent-Length: 2\r\n\r\n{}', /header is malformed/],
    ['a negative length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{}', /Content-Length is not a number/],
    [
      'two different lengths',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      /two different Content-Length/,
    ],
    [
      'a length and chunked',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
      /both Content-Length and chunked/,
    ],
    ['gzip coding', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', /transfer coding .* not supported/],
    ['a chunk size that is not hex', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /not hexadecimal/],
    ['a chunk without its CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX', /CRLF/],
    ['a switch of protocols', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n', /switched protocols/],
    [
      'a head over 16 KiB',
      `HTTP/1.1 200 OK\r\n${'X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(600)}`,
      /head is longer/,
    ],
    ['a chunked body over the cap', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n', /longer than 512/],
    ['a closing body over the cap', `HTTP/1.1 200 OK\r\n\r\n${'x'.repeat(600)}`, /longer than 512/],
  ];
  for (const [what, answer, message] of hostile) {
    it(`${what}: a ProtocolError naming the host and the request, the connection dropped`, async () => {
      await start(() => answer);
      const err = await failure(get({ maxAnswerBytes: 512, timeoutMs: 2_000 }));
      expect(err, err.message).to.be.instanceOf(ProtocolError);
      expect(err.message).to.match(message).and.to.include('h1').and.to.include('/health');
      expect(err.message).to.not.include(TOKEN.reveal());
      await new Promise((r) => setTimeout(r, 20));
      expect(agent.connections.every((s) => s.destroyed || s.readableEnded)).to.equal(true);
    });
  }

  it('an answer cut short by the close is an UnreachableError, not an answer', async () => {
    await start((_n, socket) => {
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"a":');
      return undefined;
    });
    const err = await failure(get());
    expect(err).to.be.instanceOf(UnreachableError);
  });

  it('an agent that never answers: a TimeoutError at the deadline, and its connection is closed', async () => {
    await start(() => undefined);
    const err = await failure(get({ timeoutMs: 200 }));
    expect(err).to.be.instanceOf(TimeoutError);
    await new Promise((r) => setTimeout(r, 20));
    expect(agent.connections[0]!.destroyed || agent.connections[0]!.readableEnded).to.equal(true);
  });

  it('the caller aborting mid-answer closes the connection; the next request opens a new one', async () => {
    await start((n) => (n === 0 ? 'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{"a"' : ok('{"a":2}')));
    const controller = new AbortController();
    const pending = failure(get({ signal: controller.signal }));
    await new Promise((r) => setTimeout(r, 30));
    controller.abort(new Error('stop now'));
    expect((await pending).message).to.equal('stop now');
    expect(await get()).to.deep.equal({ a: 2 });
    expect(agent.connections).to.have.length(2);
  });

  it('a token with CR or LF is refused before anything is sent (no header injection), without showing it', async () => {
    await start(() => ok('{}'));
    const err = await failure(get({ token: new Secret('abc\r\nX-Injected: yes') }));
    expect(err).to.be.instanceOf(ProtocolError);
    expect(err.message)
      .to.match(/token holds a character a header cannot carry/)
      .and.not.include('Injected');
    expect(agent.heads).to.have.length(0);
  });

  it('an agent URL of another scheme is refused, never sent as HTTP', async () => {
    await start(() => ok('{}'));
    const err = await failure(
      agentRequest('h1', agent.url().replace('http:', 'ftp:'), '/health', TOKEN, { method: 'GET', timeoutMs: 1_000 }),
    );
    expect(err).to.be.instanceOf(ProtocolError);
    expect(err.message).to.match(/must be http: or https:/);
    expect(agent.heads).to.have.length(0);
  });

  it('an idle connection the agent closed is not a failed GET: it is sent again once, on a new connection', async () => {
    await start(() => ok('{"a":1}'));
    expect(await get()).to.deep.equal({ a: 1 });
    agent.connections[0]!.destroy(); // the agent closes the kept connection while it is idle
    await new Promise((r) => setTimeout(r, 20));
    expect(await get()).to.deep.equal({ a: 1 });
    expect(agent.connections).to.have.length(2);
  });
});
