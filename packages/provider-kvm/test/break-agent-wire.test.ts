import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { inspect } from 'node:util';
import { AuthError, ProtocolError, Secret, TimeoutError, UnreachableError } from '@hafence/core';
import { TestClock, makeTestPki, type TestPki } from '@hafence/testkit';
import {
  agentRequest,
  closeIdleAgentConnections,
  createAgentServer,
  type AgentRequestOptions,
} from '@hafence/provider-kvm';
import { runAgentClientChild } from './helpers/child-process.js';
import { readRequests } from './helpers/raw-http.js';
import { slowReadHandlers } from './helpers/agent-handlers.js';

/*
 * Outside attacks on the agent client (`agentRequest` over the hand-written HTTP/1.1 wire), written as a black box:
 * real sockets on 127.0.0.1, scripted hostile answers, the real agent server, TLS with the test PKI.
 */

const TOKEN_TEXT = 'Break-Wire-Token-5f1c0a9e2b7d4c3a';
const TOKEN = new Secret(TOKEN_TEXT);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One request as the raw server saw it. */
interface Seen {
  readonly conn: number;
  readonly head: string;
  readonly body: string;
}

/** A connection of the raw server. */
interface Conn {
  readonly socket: Socket;
  readonly index: number;
  /** Requests parsed on this connection so far. */
  served: number;
}

/** Answers request number `n` (over the whole server) seen on `conn`. */
type Script = (conn: Conn, seen: Seen, n: number) => void;

interface Raw {
  readonly server: Server;
  readonly url: string;
  readonly conns: Conn[];
  readonly seen: Seen[];
  /** Every byte received, all connections. */
  bytes(): string;
  close(): Promise<void>;
}

/** A raw HTTP/1.1 server on loopback: parses requests (Content-Length bodies) and lets `script` answer. */
async function rawServer(script: Script, host = '127.0.0.1'): Promise<Raw> {
  const conns: Conn[] = [];
  const seen: Seen[] = [];
  let all = '';
  const server = createServer((socket) => {
    const conn: Conn = { socket, index: conns.length, served: 0 };
    conns.push(conn);
    readRequests(
      socket,
      (head, body) => {
        const s: Seen = { conn: conn.index, head, body };
        seen.push(s);
        conn.served++;
        script(conn, s, seen.length - 1);
      },
      (text) => (all += text),
    );
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    url: host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`,
    conns,
    seen,
    bytes: () => all,
    close: async () => {
      closeIdleAgentConnections();
      for (const c of conns) c.socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A 200 answer with a JSON body and its Content-Length. */
function ok(json: string): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
}

/** Writes the answer unless the socket is gone. */
function send(conn: Conn, text: string): void {
  if (!conn.socket.destroyed) conn.socket.write(text, 'latin1');
}

function get<T = unknown>(url: string, o: Partial<AgentRequestOptions> = {}, path = '/health'): Promise<T> {
  return agentRequest<T>('h1', url, path, TOKEN, { method: 'GET', timeoutMs: 1_000, ...o });
}

/** The settled outcome of a request: its value or its error. */
async function outcome<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await p };
  } catch (error) {
    return { error };
  }
}

/** The error of `p`, which must fail. */
async function failure(p: Promise<unknown>): Promise<Error> {
  const o = await outcome(p);
  expect(o.error, `expected a failure, got ${String(JSON.stringify(o.value)).slice(0, 120)}`).to.be.instanceOf(Error);
  return o.error as Error;
}

const fds = () => readdirSync('/proc/self/fd').length;

const handlers = slowReadHandlers;

async function closeHttp(server: HttpServer): Promise<void> {
  closeIdleAgentConnections();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

describe('break agent wire: outside attacks on agentRequest', function () {
  this.timeout(20_000);
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    closeIdleAgentConnections();
    while (cleanup.length > 0) await cleanup.pop()!();
  });
  async function raw(script: Script, host?: string): Promise<Raw> {
    const r = await rawServer(script, host);
    cleanup.push(() => r.close());
    return r;
  }

  // Found (fixed: only a path of the agent's own origin).
  // The path was resolved against the base URL (new URL(path, base)), so an absolute or protocol-relative path
  // takes the request and its token to another origin, plaintext included (the node:http client did the same).
  describe('findings: the token and the agent origin', () => {
    it('a path that is an absolute http:// URL does not send the token to another origin', async () => {
      const agent = await raw((c) => send(c, ok('{"who":"agent"}')));
      const evil = await raw((c) => send(c, ok('{"who":"evil"}')));
      const o = await outcome(get(agent.url, {}, `${evil.url}/steal`));
      expect(evil.bytes()).not.to.include(TOKEN_TEXT);
      expect(evil.seen).to.have.length(0);
      expect(o.error).to.be.instanceOf(ProtocolError);
    });

    it('a protocol-relative path (//host:port/x) does not send the token to another origin', async () => {
      const agent = await raw((c) => send(c, ok('{"who":"agent"}')));
      const evil = await raw((c) => send(c, ok('{"who":"evil"}')));
      const o = await outcome(get(agent.url, {}, `//${evil.url.slice('http://'.length)}/steal`));
      expect(evil.seen).to.have.length(0);
      expect(o.value).not.to.deep.equal({ who: 'evil' });
    });

    it('a path with a backslash origin (/\\host:port/x) does not send the token to another origin', async () => {
      const agent = await raw((c) => send(c, ok('{"who":"agent"}')));
      const evil = await raw((c) => send(c, ok('{"who":"evil"}')));
      await outcome(get(agent.url, {}, `/\\${evil.url.slice('http://'.length)}/steal`));
      expect(evil.seen).to.have.length(0);
    });

    it('an https:// agent is never asked over plaintext, even when the path is an http:// URL', async () => {
      const plain = await raw((c) => send(c, ok('{"who":"plaintext"}')));
      const o = await outcome(get('https://127.0.0.1:9/', { tls: { ca: 'unused' } }, `${plain.url}/x`));
      expect(plain.bytes()).not.to.include(TOKEN_TEXT);
      expect(o.value).to.equal(undefined);
    });
  });

  // Found (fixed: trailer, interim-answer and framing bounds).
  // Trailer lines, interim 1xx answers and chunk extensions were not counted against maxAnswerBytes.
  describe('findings: answers larger than the cap', () => {
    it('3 MB of trailer lines after a chunked body are a ProtocolError (over the 1 MiB cap)', async () => {
      const trailers = `X-T: ${'b'.repeat(1000)}\r\n`.repeat(3000);
      const agent = await raw((c) =>
        send(c, `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{"x":3}\r\n0\r\n${trailers}\r\n`),
      );
      const err = await failure(get(agent.url, { timeoutMs: 5_000 }));
      expect(err).to.be.instanceOf(ProtocolError);
    });

    it('endless trailer lines are a prompt ProtocolError, not read until the timeout', async () => {
      const agent = await raw((c) => {
        send(c, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{"x":3}\r\n0\r\n');
        send(c, `X-T: ${'b'.repeat(1000)}\r\n`.repeat(2100)); // 2.1 MB, over the 1 MiB cap, never ended
      });
      const t0 = Date.now();
      const err = await failure(get(agent.url, { timeoutMs: 2_500 }));
      expect(err).to.be.instanceOf(ProtocolError);
      expect(Date.now() - t0).to.be.lessThan(1_500);
    });

    it('2 MB of "100 Continue" answers are a prompt ProtocolError, not read until the timeout', async () => {
      const agent = await raw((c) => send(c, 'HTTP/1.1 100 Continue\r\n\r\n'.repeat(80_000)));
      const t0 = Date.now();
      const err = await failure(get(agent.url, { timeoutMs: 2_500 }));
      expect(err).to.be.instanceOf(ProtocolError);
      expect(Date.now() - t0).to.be.lessThan(1_500);
    });

    it('1 MB of chunk extensions around a 1 KB body is a ProtocolError with maxAnswerBytes 64 KiB', async () => {
      let body = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
      for (const ch of `"${'x'.repeat(1000)}"`) body += `1;${'e'.repeat(1000)}\r\n${ch}\r\n`;
      body += '0\r\n\r\n';
      const agent = await raw((c) => send(c, body));
      const err = await failure(get(agent.url, { timeoutMs: 5_000, maxAnswerBytes: 64 * 1024 }));
      expect(err).to.be.instanceOf(ProtocolError);
    });
  });

  // Found (fixed: 8 connections per agent, as many kept idle, TLS settings compared by value).
  // No bound on connections per agent (the agent sheds the 17th from one address); at most 4 kept idle; TLS
  // settings keyed by object identity (node:http's agent keyed them by value: a regression of the rewrite).
  describe('findings: connections to one agent', () => {
    it('20 concurrent requests to a real agent (per-address limit 16) all succeed', async () => {
      const server = createAgentServer(TOKEN, handlers, {});
      cleanup.push(() => closeHttp(server));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const all = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          agentRequest('h1', url, '/read-heartbeat', TOKEN, {
            method: 'POST',
            body: { suspect: `s${i}`, windowMs: 100 },
            timeoutMs: 5_000,
          }),
        ),
      );
      const failed = all.filter((r) => r.status === 'rejected').map((r) => (r.reason as Error).constructor.name);
      expect(failed).to.deep.equal([]);
    });

    it('5 concurrent requests per round, 10 rounds, reuse the 5 connections (no churn)', async () => {
      const agent = await raw((c) => setTimeout(() => send(c, ok('{}')), 5));
      for (let round = 0; round < 10; round++) await Promise.all(Array.from({ length: 5 }, () => get(agent.url)));
      expect(agent.conns.length).to.be.at.most(5);
    });

    it('equal TLS settings given as fresh objects share one kept connection', async () => {
      const pki = makeTestPki();
      cleanup.push(() => pki.remove());
      const server = createAgentServer(TOKEN, handlers, {
        tls: { cert: pki.server.cert, key: new Secret(pki.server.key) },
      });
      cleanup.push(() => closeHttp(server));
      let handshakes = 0;
      server.on('secureConnection', () => handshakes++);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (let i = 0; i < 5; i++) expect(await get(url, { tls: { ca: pki.ca } })).to.deep.equal({ connected: true });
      expect(handshakes).to.equal(1);
    });
  });

  // Found (fixed): bare-LF heads waited for the timeout; a NUL in a field value was accepted.
  describe('findings: malformed heads are refused at once', () => {
    it('an answer with bare LF line ends is a prompt ProtocolError, not a TimeoutError', async () => {
      const agent = await raw((c) => send(c, 'HTTP/1.1 200 OK\nContent-Length: 2\n\n{}'));
      const err = await failure(get(agent.url, { timeoutMs: 1_500 }));
      expect(err).to.be.instanceOf(ProtocolError);
    });

    it('a NUL inside a header value is a ProtocolError', async () => {
      const agent = await raw((c) => send(c, 'HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 2\r\n\r\n{}'));
      const err = await failure(get(agent.url));
      expect(err).to.be.instanceOf(ProtocolError);
    });
  });

  describe('guards: no answer is given to the wrong request (desync)', () => {
    it('a second answer glued to the first is never the answer of the next request', async () => {
      const agent = await raw((c, _s, n) => {
        if (n === 0) send(c, ok('{"r":1}') + ok('{"r":"STALE"}'));
        else send(c, ok(`{"r":${n + 1}}`));
      });
      expect(await get(agent.url)).to.deep.equal({ r: 1 });
      const second = await get<{ r: unknown }>(agent.url);
      expect(second.r).not.to.equal('STALE');
    });

    it('an answer arriving after the timeout is never given to the next request', async () => {
      const agent = await raw((c, _s, n) => {
        if (n === 0) setTimeout(() => send(c, ok('{"r":"LATE"}')), 300);
        else setTimeout(() => send(c, ok('{"r":"second"}')), 400);
      });
      expect(await failure(get(agent.url, { timeoutMs: 100 }))).to.be.instanceOf(TimeoutError);
      expect(await get(agent.url)).to.deep.equal({ r: 'second' });
    });

    it('bytes sent on an idle kept connection are never the next answer', async () => {
      const agent = await raw((c, _s, n) => {
        if (n === 0) {
          send(c, ok('{"r":1}'));
          setTimeout(() => send(c, ok('{"r":"UNSOLICITED"}')), 20);
        } else send(c, ok('{"r":2}'));
      });
      expect(await get(agent.url)).to.deep.equal({ r: 1 });
      await sleep(80);
      expect(await get(agent.url)).to.deep.equal({ r: 2 });
    });

    it('an abort racing the answer never hands that answer to the next request', async () => {
      const agent = await raw((c, _s, n) => {
        if (n === 0) setTimeout(() => send(c, ok('{"r":"ABORTED"}')), 40);
        else send(c, ok('{"r":"mine"}'));
      });
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 40);
      await outcome(get(agent.url, { signal: ac.signal }));
      await sleep(60);
      expect(await get(agent.url)).to.deep.equal({ r: 'mine' });
    });

    it('bytes after the terminal chunk are never the next answer', async () => {
      const agent = await raw((c, _s, n) => {
        if (n === 0)
          send(
            c,
            `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{"x":1}\r\n0\r\n\r\n${ok('{"r":"STALE"}')}`,
          );
        else send(c, ok('{"r":2}'));
      });
      expect(await get(agent.url)).to.deep.equal({ x: 1 });
      expect(await get(agent.url)).to.deep.equal({ r: 2 });
    });
  });

  describe('guards: retries', () => {
    it('a POST on a kept connection the agent closes after reading it is sent once', async () => {
      const agent = await raw((c, _s, n) => (n === 0 ? send(c, ok('{}')) : c.socket.destroy()));
      await get(agent.url);
      const err = await failure(
        agentRequest('h1', agent.url, '/arm', TOKEN, { method: 'POST', body: {}, timeoutMs: 1_000 }),
      );
      expect(err).to.be.instanceOf(UnreachableError);
      expect(agent.seen.filter((s) => s.head.startsWith('POST'))).to.have.length(1);
    });

    it('a GET on a kept connection closed without answer is sent exactly once more, on a new connection', async () => {
      const agent = await raw((c, _s, n) => (n === 0 ? send(c, ok('{}')) : c.socket.destroy()));
      await get(agent.url);
      expect(await failure(get(agent.url))).to.be.instanceOf(UnreachableError);
      expect(agent.seen).to.have.length(3);
      expect(agent.conns).to.have.length(2);
    });

    it('a GET whose answer was cut short after its first bytes is not sent again', async () => {
      const agent = await raw((c, _s, n) => (n === 0 ? send(c, ok('{}')) : c.socket.end('HTTP/1.1 200 OK\r\nConte')));
      await get(agent.url);
      await failure(get(agent.url));
      expect(agent.seen).to.have.length(2);
    });
  });

  describe('guards: malformed answers are typed errors', () => {
    const cases: Array<[string, string]> = [
      ['Content-Length +7', 'HTTP/1.1 200 OK\r\nContent-Length: +7\r\n\r\n{"x":3}'],
      ['Content-Length 7,7', 'HTTP/1.1 200 OK\r\nContent-Length: 7,7\r\n\r\n{"x":3}'],
      ['Content-Length -1', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{"x":3}'],
      ['Content-Length 0x7', 'HTTP/1.1 200 OK\r\nContent-Length: 0x7\r\n\r\n{"x":3}'],
      ['two Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n{"x":3}'],
      [
        'Content-Length and chunked',
        'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      ],
      ['chunk size ffffffff', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n{"x":3}'],
      [
        'chunk size 17 hex digits',
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000007\r\n{"x":3}\r\n',
      ],
      ['chunk extension of 2 MB', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7;${'a'.repeat(2 << 20)}\r\n`],
      ['bare CR in a header', 'HTTP/1.1 200 OK\r\nX-A: a\rContent-Length: 9\r\n\r\n{}'],
      ['obs-fold', 'HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\n{}'],
      ['status 000', 'HTTP/1.1 000 X\r\nContent-Length: 2\r\n\r\n{}'],
      ['status 999', 'HTTP/1.1 999 X\r\nContent-Length: 2\r\n\r\n{}'],
      ['status 2000', 'HTTP/1.1 2000 X\r\nContent-Length: 2\r\n\r\n{}'],
      ['HTTP/2.0', 'HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\n{}'],
      ['101 Switching Protocols', 'HTTP/1.1 101 S\r\nUpgrade: x\r\n\r\n'],
      ['a 20 KiB head', `HTTP/1.1 200 OK\r\n${`X-A: ${'a'.repeat(100)}\r\n`.repeat(200)}Content-Length: 2\r\n\r\n{}`],
      ['gzip, chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'],
      ['500', 'HTTP/1.1 500 X\r\nContent-Length: 2\r\n\r\n{}'],
      ['not JSON', ok('nope')],
      ['Content-Length over the cap', 'HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n{'],
    ];
    for (const [name, answer] of cases) {
      it(`${name}: ProtocolError, at once`, async () => {
        const agent = await raw((c) => send(c, answer));
        const t0 = Date.now();
        const err = await failure(get(agent.url, { timeoutMs: 3_000 }));
        expect(err).to.be.instanceOf(ProtocolError);
        expect(Date.now() - t0).to.be.lessThan(1_000);
      });
    }

    it('401 and 403 are AuthErrors', async () => {
      const agent = await raw((c, _s, n) =>
        send(c, `HTTP/1.1 ${n === 0 ? 401 : 403} X\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`),
      );
      expect(await failure(get(agent.url))).to.be.instanceOf(AuthError);
      expect(await failure(get(agent.url))).to.be.instanceOf(AuthError);
    });

    it('an agent that resets before answering is an UnreachableError', async () => {
      const agent = await raw((c) => c.socket.resetAndDestroy());
      expect(await failure(get(agent.url))).to.be.instanceOf(UnreachableError);
    });

    it('HTTP/1.0 answers (close-delimited and with Content-Length) are read; interim 1xx skipped', async () => {
      const agent = await raw((c, _s, n) => {
        if (n === 0) c.socket.end('HTTP/1.0 200 OK\r\n\r\n{"n":0}');
        else if (n === 1) send(c, 'HTTP/1.0 200 OK\r\nContent-Length: 7\r\n\r\n{"n":1}');
        else send(c, `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 P\r\n\r\n${ok('{"n":2}')}`);
      });
      expect(await get(agent.url)).to.deep.equal({ n: 0 });
      expect(await get(agent.url)).to.deep.equal({ n: 1 });
      expect(await get(agent.url)).to.deep.equal({ n: 2 });
    });
  });

  describe('guards: timeouts', () => {
    it('a body dripped one byte per ms times out at timeoutMs (the drip does not extend it)', async () => {
      const answer = `HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{"a":"${'x'.repeat(990)}"}`;
      const agent = await raw((c) => {
        let i = 0;
        const t = setInterval(() => {
          if (c.socket.destroyed || i >= answer.length) clearInterval(t);
          else c.socket.write(answer[i++]!);
        }, 1);
      });
      const t0 = Date.now();
      expect(await failure(get(agent.url, { timeoutMs: 300 }))).to.be.instanceOf(TimeoutError);
      expect(Date.now() - t0).to.be.lessThan(900);
    });

    it('a timeout on a TestClock fires at timeoutMs of virtual time and closes the connection', async () => {
      const agent = await raw(() => undefined);
      const clock = new TestClock(0);
      const p = outcome(get(agent.url, { timeoutMs: 1_000, clock }));
      while (agent.seen.length === 0) await sleep(5);
      await clock.advance(999);
      const early = await Promise.race([p, sleep(50).then(() => 'pending')]);
      expect(early).to.equal('pending');
      await clock.advance(1);
      expect((await p).error).to.be.instanceOf(TimeoutError);
      const socket = agent.conns[0]!.socket;
      if (!socket.readableEnded && !socket.destroyed) await new Promise((r) => socket.once('close', r));
    });
  });

  describe('guards: secrets', () => {
    const answers: Array<[string, Script, Partial<AgentRequestOptions>]> = [
      ['timeout', () => undefined, { timeoutMs: 100 }],
      ['malformed head', (c) => send(c, 'HTTP/1.1 200 OK\r\nX: a\0\rb\r\n\r\n'), {}],
      [
        '500 echoing the request',
        (c, s) => send(c, `HTTP/1.1 500 X\r\nContent-Length: ${s.head.length}\r\n\r\n${s.head}`),
        {},
      ],
      ['not JSON echoing the request', (c, s) => send(c, ok(s.head)), {}],
      [
        '401 echoing the request',
        (c, s) => send(c, `HTTP/1.1 401 X\r\nContent-Length: ${s.head.length}\r\n\r\n${s.head}`),
        {},
      ],
      ['over the cap', (c, s) => send(c, ok(s.head.repeat(100))), { maxAnswerBytes: 1_000 }],
      ['reset', (c) => c.socket.resetAndDestroy(), {}],
    ];
    for (const [name, script, o] of answers) {
      it(`${name}: the token is nowhere in the error (inspect, JSON, stack, causes)`, async () => {
        const agent = await raw(script);
        const err = await failure(get(agent.url, o));
        const dump = `${inspect(err, { depth: 20, showHidden: true })} ${JSON.stringify(err)} ${String(err)} ${err.stack}`;
        expect(dump).not.to.include(TOKEN_TEXT);
      });
    }

    it('a token with U+010D U+010A (CR LF once truncated to bytes) is refused before sending', async () => {
      const agent = await raw((c) => send(c, ok('{}')));
      const err = await failure(
        agentRequest('h1', agent.url, '/health', new Secret('abc\u010d\u010aX-Evil: 1'), {
          method: 'GET',
          timeoutMs: 1_000,
        }),
      );
      expect(err).to.be.instanceOf(ProtocolError);
      expect(agent.bytes()).not.to.include('X-Evil');
    });

    it('a path with CR LF cannot add a header', async () => {
      const agent = await raw((c) => send(c, ok('{}')));
      await outcome(get(agent.url, {}, '/health\r\nX-Evil: 1'));
      await outcome(get(agent.url, {}, '/health\u010d\u010aX-Evil: 1'));
      expect(agent.bytes()).not.to.match(/\r\nX-Evil/);
    });
  });

  describe('guards: TLS', () => {
    let pki: TestPki;
    before(() => {
      pki = makeTestPki();
    });
    after(() => pki.remove());

    async function tlsAgent(): Promise<{ url: string; handshakes: () => number; heads: string[] }> {
      const heads: string[] = [];
      let handshakes = 0;
      const server = createTlsServer({ cert: pki.server.cert, key: pki.server.key }, (s: TLSSocket) => {
        handshakes++;
        let buf = '';
        s.on('error', () => undefined);
        s.on('data', (d: Buffer) => {
          buf += d.toString('latin1');
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          heads.push(buf.slice(0, end));
          buf = buf.slice(end + 4);
          s.write(ok('{"tls":true}'));
        });
      });
      server.on('tlsClientError', () => undefined);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      cleanup.push(
        () =>
          new Promise<void>((r) => {
            closeIdleAgentConnections();
            server.close(() => r());
          }),
      );
      return {
        url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
        handshakes: () => handshakes,
        heads,
      };
    }

    it('the right CA: answered, and one connection carries three requests (same tls object)', async () => {
      const a = await tlsAgent();
      const tls = { ca: pki.ca };
      for (let i = 0; i < 3; i++) expect(await get(a.url, { tls })).to.deep.equal({ tls: true });
      expect(a.handshakes()).to.equal(1);
    });

    it('a connection verified under one CA is not reused for a request under another CA', async () => {
      const a = await tlsAgent();
      expect(await get(a.url, { tls: { ca: pki.ca } })).to.deep.equal({ tls: true });
      expect(await failure(get(a.url, { tls: { ca: pki.otherCa } }))).to.be.instanceOf(AuthError);
      expect(a.heads).to.have.length(1);
    });

    it('no CA, or a URL name the certificate does not carry: AuthError, no request sent', async () => {
      const a = await tlsAgent();
      expect(await failure(get(a.url))).to.be.instanceOf(AuthError);
      expect(await failure(get(a.url.replace('127.0.0.1', 'localhost'), { tls: { ca: pki.ca } }))).to.be.instanceOf(
        AuthError,
      );
      expect(a.heads).to.have.length(0);
    });

    it('a plaintext server at an https:// URL never sees the token', async () => {
      const plain = await raw((c) => send(c, ok('{"plain":1}')));
      const o = await outcome(get(plain.url.replace('http:', 'https:'), { tls: { ca: pki.ca }, timeoutMs: 300 }));
      expect(o.value).to.equal(undefined);
      expect(plain.bytes()).not.to.include(TOKEN_TEXT);
    });
  });

  describe('guards: resources', () => {
    it('IPv6 loopback URLs work', async function () {
      let agent: Raw;
      try {
        agent = await raw((c) => send(c, ok('{"v6":1}')), '::1');
      } catch {
        this.skip();
      }
      expect(await get(agent!.url)).to.deep.equal({ v6: 1 });
    });

    it('3,000 mixed requests (GET, POST, 500s) use one connection and leave no descriptor or handle behind', async () => {
      const agent = await raw((c, _s, n) =>
        send(c, n % 50 === 49 ? 'HTTP/1.1 500 X\r\nContent-Length: 2\r\n\r\n{}' : ok('{}')),
      );
      await get(agent.url);
      const f0 = fds();
      const h0 = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;
      for (let i = 0; i < 3_000; i++) {
        await outcome(
          agentRequest('h1', agent.url, '/x', TOKEN, {
            method: i % 3 ? 'GET' : 'POST',
            body: i % 3 ? undefined : { i },
            timeoutMs: 1_000,
          }),
        );
      }
      expect(agent.conns).to.have.length(1);
      expect(fds()).to.be.at.most(f0);
      expect((process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length).to.be.at.most(h0);
    });

    it('400 timed-out and aborted requests leave no socket open at the agent', async () => {
      const agent = await raw(() => undefined);
      for (let i = 0; i < 400; i++) {
        const ac = new AbortController();
        if (i % 2) setTimeout(() => ac.abort(), 1);
        await outcome(get(agent.url, { timeoutMs: i % 2 ? 1_000 : 2, signal: ac.signal }));
      }
      await sleep(100);
      expect(agent.conns.filter((c) => !c.socket.destroyed && !c.socket.readableEnded)).to.have.length(0);
    });

    it('a process with idle kept connections exits by itself', async () => {
      const agent = await raw((c) => send(c, ok('{"ok":1}')));
      const { code, out } = await runAgentClientChild(`
        const r = await agentRequest('h1', ${JSON.stringify(agent.url)}, '/health', new Secret('t'.repeat(32)),
          { method: 'GET', timeoutMs: 2000, keepAliveMs: 60000 });
        console.log(JSON.stringify(r));`);
      expect(code, out).to.equal(0);
      expect(out.trim()).to.equal('{"ok":1}');
    });
  });
});
