import { expect } from 'chai';
import { describeStateStoreConformance } from '@hafence/testkit/mocha';
import type { ConformanceStore } from '@hafence/testkit';
import { createPostgresStore, StoreOpenError, type TypeormStateStore } from '@hafence/store-typeorm';
import { DataSource } from 'typeorm';
import { STORE_ENTITIES } from '@hafence/store-typeorm';
import { TestPostgres } from '@hafence/testkit/postgres';

// Real PostgreSQL: a fresh database per check, dropped after it. When the server is
// unreachable these tests fail (never skip), saying how to start it.
let pg: TestPostgres;
let n = 0;

before(async function () {
  this.timeout(20_000);
  pg = await TestPostgres.connect();
});
after(async () => {
  await pg?.close();
});

describeStateStoreConformance('PostgreSQL', async () => {
  const name = `hafence_t_${process.pid}_${n++}`;
  const url = await pg.createDatabase(name);
  // The suite's window edges are stated on each entry's `at`: the caller's clock.
  const opened: TypeormStateStore[] = [await createPostgresStore({ url, budgetClock: 'caller' })];
  return {
    store: opened[0]!,
    openPeer: async (): Promise<ConformanceStore> => {
      const peer = await createPostgresStore({ url, budgetClock: 'caller' });
      opened.push(peer);
      return peer;
    },
    close: async () => {
      for (const s of opened) await s.close();
      await pg.dropDatabase(name);
    },
  };
});

describe("PostgreSQL store: the fence budget's window on the database's clock", () => {
  it('a server whose clock runs an hour ahead (or behind) cannot widen the window', async () => {
    const name = `hafence_t_${process.pid}_dbclock`;
    const url = await pg.createDatabase(name);
    const [a, b] = await Promise.all([createPostgresStore({ url }), createPostgresStore({ url })]);
    try {
      const limits = { perPartition: 5, global: 1, windowMs: 60_000 };
      const now = Date.now();
      const stop = (partition: string, at: number) => ({
        at,
        partition,
        resource: `host:${partition}`,
        command: 'off' as const,
      });
      expect(await a.takeStop(stop('c1', now), limits)).to.deep.equal({ taken: true });
      for (const skew of [3_600_000, -3_600_000, 61_000]) {
        expect(await b.takeStop(stop('c2', now + skew), limits), `clock ${skew} ms off`).to.deep.include({
          taken: false,
          scope: 'global',
        });
      }
      // The same with each caller's own clock (budgetClock: 'caller') lets the skewed server through.
      const naive = await createPostgresStore({ url, budgetClock: 'caller' });
      expect(await naive.takeStop(stop('c2', now + 3_600_000), limits)).to.deep.equal({ taken: true });
      await naive.close();
    } finally {
      await a.close();
      await b.close();
      await pg.dropDatabase(name);
    }
  });

  it('an operator resume taken on the caller clock still frees the window', async () => {
    const name = `hafence_t_${process.pid}_dbresume`;
    const url = await pg.createDatabase(name);
    const store = await createPostgresStore({ url });
    try {
      const clock = () => Date.now() + 7_200_000; // this server's clock runs two hours ahead
      const pause = () => new Promise((resolve) => setTimeout(resolve, 20));
      const stop = () => ({ at: clock(), partition: 'c1', resource: 'host:h1', command: 'off' as const });
      const limits = { perPartition: 1, global: 10, windowMs: 60_000 };
      expect(await store.takeStop(stop(), limits)).to.deep.equal({ taken: true });
      await pause();
      expect(await store.takeStop(stop(), limits)).to.deep.include({ taken: false, scope: 'c1' });
      await pause();
      const resumed = { ...limits, resumedAt: { c1: clock() } }; // the operator resumes, on this server's clock
      await pause();
      expect(await store.takeStop(stop(), resumed)).to.deep.equal({ taken: true });
    } finally {
      await store.close();
      await pg.dropDatabase(name);
    }
  });
});

describe('PostgreSQL store: opening', () => {
  it('two servers opening a fresh database at once both migrate it safely and share it', async () => {
    const name = `hafence_t_${process.pid}_open`;
    const url = await pg.createDatabase(name);
    try {
      const [a, b] = await Promise.all([createPostgresStore({ url }), createPostgresStore({ url })]);
      await a.appendEvent({ t: 1, type: 'x' });
      expect((await b.listEvents({ limit: 5 })).map((e) => e.type)).to.deep.equal(['x']);
      await a.close();
      await b.close();
    } finally {
      await pg.dropDatabase(name);
    }
  });

  it('the migrated schema is exactly what the entities describe (nothing left to synchronise)', async () => {
    const name = `hafence_t_${process.pid}_schema`;
    const url = await pg.createDatabase(name);
    try {
      await (await createPostgresStore({ url })).close();
      const u = new URL(url);
      const peek = new DataSource({
        type: 'postgres',
        host: u.hostname,
        port: Number(u.port || 5432),
        username: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
        database: name,
        entities: [...STORE_ENTITIES],
      });
      await peek.initialize();
      try {
        const pending = await peek.driver.createSchemaBuilder().log();
        expect(pending.upQueries.map((q) => q.query)).to.deep.equal([]);
      } finally {
        await peek.destroy();
      }
    } finally {
      await pg.dropDatabase(name);
    }
  });

  it('a connection error names neither the password given apart nor the one in the URL', async () => {
    const secret = 'S3cret-pw-4711';
    const refused = new URL(pg.url);
    refused.port = '1';
    for (const options of [
      { url: refused.toString(), password: secret },
      { url: `postgres://hafence:${secret}@127.0.0.1:1/hafence_test` },
    ]) {
      const error = await createPostgresStore({ ...options, connectTimeoutMs: 2_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(StoreOpenError);
      expect((error as StoreOpenError).code).to.equal('HAF7002');
      const text = `${String(error)} ${JSON.stringify(error)} ${String((error as Error).cause)} ${(error as Error).stack}`;
      expect(text).not.to.include(secret);
    }
  });

  it('a wrong password is refused with a StoreOpenError that does not contain it', async () => {
    const secret = 'wrong-Pa55word';
    const error = await createPostgresStore({ url: pg.url, password: secret }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(StoreOpenError);
    expect(String(error)).not.to.include(secret);
    expect(String((error as Error).cause)).not.to.include(secret);
  });
});
