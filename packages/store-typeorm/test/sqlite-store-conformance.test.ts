import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStateStoreConformance } from '@hafence/testkit/mocha';
import type { ConformanceStore } from '@hafence/testkit';
import { createSqliteStore, StoreOpenError, StoreOptionsError, type TypeormStateStore } from '@hafence/store-typeorm';
import { DataSource } from 'typeorm';
import { openWorkerPeer } from './helpers/sqlite-worker-peer.js';

// A real SQLite file per check, in a temporary directory removed after the run.
const dir = mkdtempSync(join(tmpdir(), 'hafence-sqlite-'));
let n = 0;
after(() => rmSync(dir, { recursive: true, force: true }));

describeStateStoreConformance('SQLite', async () => {
  const path = join(dir, `conformance-${n++}.db`);
  const opened: Array<{ close(): Promise<void> }> = [];
  const store: TypeormStateStore = await createSqliteStore({ path });
  opened.push(store);
  return {
    store,
    // A second connection to the same file on another thread: what a second process would open.
    openPeer: async (): Promise<ConformanceStore> => {
      const peer = await openWorkerPeer(path);
      opened.push(peer);
      return peer;
    },
    close: async () => {
      for (const s of opened) await s.close();
    },
  };
});

const record = {
  key: 'h1',
  ref: { type: 'host', id: 'h1' },
  partition: 'p1',
  state: 'AVAILABLE',
  version: 1,
  since: 5,
  nextEpisode: 1,
  releasedOutside: false,
  timers: { recheckAt: 9 },
} as const;

describe('SQLite store: the file', () => {
  it('keeps every kind of row across a close and reopen', async () => {
    const path = join(dir, 'reopen.db');
    const first = await createSqliteStore({ path });
    await first.saveResource(record, null);
    await first.savePartition({ id: 'p1', state: 'ACTIVE', version: 1, since: 0, reason: 'r' }, null);
    await first.acquireLease({ partition: 'p1', msId: 'ms', runId: 'run', leaseTtlMs: 10 }, null);
    await first.takeStop(
      { at: 5, partition: 'p1', resource: 'h1', command: 'off' },
      { perPartition: 1, global: 1, windowMs: 10 },
    );
    await first.putIntent({ resource: 'h1', command: 'off', at: 5 });
    await first.recordArm({ resource: 'h1', armGen: 4, kind: 'arm', at: 5 });
    await first.appendEvent({ t: 5, type: 'x' });
    await first.close();

    const again = await createSqliteStore({ path });
    expect(await again.getResource('h1')).to.deep.equal(record);
    expect((await again.loadPartitions()).map((p) => p.version)).to.deep.equal([1]);
    expect((await again.listLeases()).map((l) => [l.runId, l.epoch])).to.deep.equal([['run', 1]]);
    const verdict = await again.takeStop(
      { at: 6, partition: 'p1', resource: 'h1', command: 'off' },
      { perPartition: 1, global: 1, windowMs: 10 },
    );
    expect(verdict).to.deep.equal({ taken: false, scope: 'p1', count: 1, limit: 1 });
    expect(await again.listIntents()).to.deep.equal([{ resource: 'h1', command: 'off', at: 5 }]);
    expect((await again.latestArm('h1'))?.armGen).to.equal(4);
    expect((await again.listEvents({ limit: 9 })).map((e) => e.type)).to.deep.equal(['x']);
    await again.close();
  });

  it('is in WAL mode with synchronous=FULL, a busy timeout and a 64 MiB page cache, its schema made by the migration', async () => {
    const path = join(dir, 'pragmas.db');
    await (await createSqliteStore({ path, busyTimeoutMs: 1234 })).close();
    const peek = new DataSource({ type: 'better-sqlite3', database: path });
    await peek.initialize();
    try {
      expect(await peek.query('PRAGMA journal_mode')).to.deep.equal([{ journal_mode: 'wal' }]);
      const migrations = (await peek.query('SELECT name FROM migrations')) as { name: string }[];
      expect(migrations.map((m) => m.name)).to.deep.equal([
        'InitialSchemaSqlite1764460800000',
        'OutboxSqlite1795996800000',
      ]);
    } finally {
      await peek.destroy();
    }
    // synchronous and busy_timeout are per connection: read them on the store's own.
    const store = await createSqliteStore({ path, busyTimeoutMs: 1234 });
    expect(await store.sqlitePragma('synchronous')).to.equal(2);
    expect(await store.sqlitePragma('busy_timeout')).to.equal(1234);
    expect(await store.sqlitePragma('cache_size')).to.equal(-65_536); // KiB
    await store.close();
  });

  it('rejects bad options with a typed error naming the option', async () => {
    for (const [options, option] of [
      [{ path: '' }, 'path'],
      [{ path: join(dir, 'x.db'), busyTimeoutMs: -1 }, 'busyTimeoutMs'],
    ] as const) {
      const error = await createSqliteStore(options).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(StoreOptionsError);
      expect((error as StoreOptionsError).option).to.equal(option);
      expect((error as StoreOptionsError).code).to.equal('HAF7001');
    }
  });

  it('a second open of a file this process already has open is refused (it would deadlock)', async () => {
    const path = join(dir, 'twice.db');
    const store = await createSqliteStore({ path });
    const error = await createSqliteStore({ path: join(dir, '.', 'twice.db') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(StoreOptionsError);
    expect((error as StoreOptionsError).option).to.equal('path');
    await store.close();
    await (await createSqliteStore({ path })).close();
  });

  it('a file it cannot open is a StoreOpenError', async () => {
    const error = await createSqliteStore({ path: join(dir, 'reopen.db', 'x.db') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(StoreOpenError);
    expect((error as StoreOpenError).code).to.equal('HAF7002');
  });
});
