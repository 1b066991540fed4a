import { expect } from 'chai';
import { createServer, type Server, type Socket } from 'node:net';
import { Secret } from '@hafence/core';
import { agentRequest, closeIdleAgentConnections } from '@hafence/provider-kvm';
import { readRequests } from './helpers/raw-http.js';

const TOKEN = new Secret('keepalive-post-token-71c2e9');

/**
 * A raw HTTP/1.1 server: answers the first request of each connection with 200 (kept alive); on a reused
 * connection it reads the whole request and then resets the socket without answering (`resetReused`).
 */
function rawServer(o: { resetReused: boolean }): { server: Server; seen: string[]; port: () => number } {
  const seen: string[] = [];
  const server = createServer((socket: Socket) => {
    let served = 0;
    readRequests(socket, (head) => {
      seen.push(head.split('\r\n')[0]!);
      if (served > 0 && o.resetReused) {
        socket.resetAndDestroy();
        return;
      }
      served++;
      const body = '{"ok":true}';
      socket.write(
        `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n${body}`,
      );
    });
  });
  return { server, seen, port: () => (server.address() as { port: number }).port };
}

/**
 * Issue 13 attack on the agent client's keep-alive: a GET is retried once on a reused-socket reset, a POST (arm,
 * disarm) must never be sent twice. The server reads the whole request on a reused connection, then resets it.
 */
describe('break: agent client keep-alive, a reset after the request was read on a reused socket', () => {
  let s: ReturnType<typeof rawServer>;
  afterEach(async () => {
    closeIdleAgentConnections(); // the client keeps the answered connection for the next request
    await new Promise((r) => s.server.close(r));
  });

  const call = (method: 'GET' | 'POST', path: string) =>
    agentRequest<unknown>('h1', `http://127.0.0.1:${s.port()}`, path, TOKEN, {
      method,
      timeoutMs: 3_000,
      keepAliveMs: 20_000,
      ...(method === 'POST' ? { body: { x: 1 } } : {}),
    }).then(
      () => 'ok',
      (e: Error) => e.name,
    );

  it('a POST whose reused socket is reset after it was read is sent once (an error, not a resend)', async () => {
    s = rawServer({ resetReused: true });
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
    expect(await call('GET', '/health')).to.equal('ok');
    const got = await call('POST', '/arm');
    expect(
      s.seen.filter((l) => l.startsWith('POST')),
      `POSTs received (client said ${got})`,
    ).to.have.length(1);
    expect(got).to.not.equal('ok');
  });

  it('a GET on a reused socket reset after it was read is retried once, on a new connection, and answered', async () => {
    s = rawServer({ resetReused: true });
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
    expect(await call('GET', '/health')).to.equal('ok');
    expect(await call('GET', '/health')).to.equal('ok');
    expect(s.seen).to.have.length(3);
  });
});
