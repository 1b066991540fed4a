import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import { createPostgresStore, StoreOpenError, StoreOptionsError } from '@hafence/store-typeorm';
import { TestPostgres } from '@hafence/testkit/postgres';

// PostgreSQL store options at their bounds and odd URLs, from outside (README: options table; bad options throw
// StoreOptionsError HAF7001 naming the option, an unopenable database StoreOpenError HAF7002).

/** A TCP server on `host` that accepts connections and never answers. */
async function silentServer(host: string): Promise<{ server: Server; port: number }> {
  const server = createServer(() => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

/** What `p` settled with within `ms`: the value, the error, or 'pending'. */
async function within<T>(ms: number, p: Promise<T>): Promise<{ value?: T; error?: unknown; pending?: true }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ pending: true }>((resolve) => {
    timer = setTimeout(() => resolve({ pending: true }), ms);
  });
  try {
    return await Promise.race([p.then((value) => ({ value })).catch((error: unknown) => ({ error })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('break: PostgreSQL store options and URLs', function () {
  this.timeout(60_000);
  let pg: TestPostgres;
  let url: string;
  const name = `hafence_break_${process.pid}`;

  before(async () => {
    pg = await TestPostgres.connect();
    url = await pg.createDatabase(name);
  });
  after(async () => {
    await pg.dropDatabase(name);
    await pg.close();
  });

  it('poolSize 1 (the lower bound the cli documents, "pool 1–100") opens the store', async () => {
    const r = await within(20_000, createPostgresStore({ url, poolSize: 1, connectTimeoutMs: 5_000 }));
    if (r.value) await r.value.close();
    expect(r.error, String((r.error as Error | undefined)?.message)).to.equal(undefined);
    expect(r.pending).to.equal(undefined);
  });

  it('poolSize 2 opens the store (held)', async () => {
    const store = await createPostgresStore({ url, poolSize: 2 });
    await store.close();
  });

  it('a URL with port 0 is refused (HAF7001, url)', async () => {
    const u = new URL(url);
    u.port = '0';
    const r = await within(10_000, createPostgresStore({ url: u.toString() }));
    if (r.value) await r.value.close();
    expect(r.error).to.be.instanceOf(StoreOptionsError);
    expect((r.error as StoreOptionsError).code).to.equal('HAF7001');
  });

  it('a URL with port 65536 is refused (HAF7001) (held)', async () => {
    const u = new URL(url);
    const r = await within(10_000, createPostgresStore({ url: `postgres://${u.username}@${u.hostname}:65536/x` }));
    expect(r.error).to.be.instanceOf(StoreOptionsError);
    expect((r.error as StoreOptionsError).code).to.equal('HAF7001');
  });

  it('an IPv6 literal host ([::1]) is dialled, not looked up by name with its brackets', async function () {
    let silent: { server: Server; port: number };
    try {
      silent = await silentServer('::1');
    } catch {
      this.skip();
      return;
    }
    try {
      const r = await within(
        10_000,
        createPostgresStore({ url: `postgres://u@[::1]:${silent.port}/d`, password: 'x', connectTimeoutMs: 1_000 }),
      );
      expect(r.error).to.be.instanceOf(StoreOpenError);
      expect(String((r.error as Error).message), 'reached the server: a timeout, not ENOTFOUND').to.not.include(
        'ENOTFOUND',
      );
    } finally {
      silent.server.close();
    }
  });

  it('connectTimeoutMs 0 is refused (HAF7001), or a server that never answers still fails in bounded time', async () => {
    const silent = await silentServer('127.0.0.1');
    try {
      const r = await within(
        15_000,
        createPostgresStore({ url: `postgres://u@127.0.0.1:${silent.port}/d`, password: 'x', connectTimeoutMs: 0 }),
      );
      expect(r.pending, 'open still pending after 15 s against a silent server').to.equal(undefined);
      expect(r.error).to.be.instanceOf(Error);
    } finally {
      silent.server.close();
    }
  });
});
