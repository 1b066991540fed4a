import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { TestClock } from '@hafence/testkit';
import { EventFeed, SseHub } from '@hafence/operator/internal';
import { until } from './sse-client.js';

describe('operator API: a slow event-stream client', () => {
  let server: Server;
  let hub: SseHub;
  let drops = 0;
  const feed = new EventFeed();
  const sockets: Socket[] = [];

  beforeEach(async () => {
    drops = 0;
    hub = new SseHub(
      feed,
      new TestClock(),
      { maxClients: 4, maxBufferedBytes: 256 * 1024, keepAliveMs: 15_000 },
      () => {
        drops++;
      },
    );
    server = createServer((_req, res) => hub.join(res, undefined));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    hub.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const client = async (read: boolean): Promise<Socket> => {
    const s = connect((server.address() as AddressInfo).port, '127.0.0.1');
    sockets.push(s);
    s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    if (read) s.resume();
    else s.pause();
    await until('joined', 2_000, () => hub.size === sockets.length);
    return s;
  };

  const burst = (n: number) => {
    const message = 'm'.repeat(64 * 1024);
    for (let i = 0; i < n; i++)
      hub.broadcast(feed.push({ t: i, type: 'alert', level: 'info', code: 'self-doubt-cleared', message }));
  };

  it('drops a client that does not read once its buffer passes the limit, and keeps a reader', async () => {
    await client(true);
    const slow = await client(false);
    const closed = new Promise<void>((r) => slow.once('close', () => r()));
    slow.resume(); // only to see the close; the socket buffers were filled first
    slow.pause();
    // 128 KiB per turn of the event loop, under the 256 KiB limit: only a client that does not read falls behind.
    for (let i = 0; i < 2_000 && drops === 0; i++) {
      burst(2);
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(drops).to.equal(1);
    expect(hub.size, 'the reader stays').to.equal(1);
    slow.resume();
    await closed;
  });

  it('never drops a client that reads', async () => {
    await client(true);
    for (let i = 0; i < 100; i++) {
      burst(2);
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(drops).to.equal(0);
    expect(hub.size).to.equal(1);
  });
});
