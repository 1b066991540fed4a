import { expect } from 'chai';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { createSqliteStore } from '@hafence/store-typeorm';
import { hostRecord as record, testDir } from './helpers/records.js';

const dir = testDir('hafence-partcol-');

/** The store's own driver, opened directly (it ships no types: the little used here). */
const Database = createRequire(import.meta.url)('better-sqlite3') as new (
  path: string,
  options: { readonly: boolean },
) => { prepare(source: string): { all(): unknown[] }; close(): void };

/** The `partition` column of every resource row, read from the file with a connection of its own. */
function partitionColumn(path: string): Record<string, string> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare('SELECT key, partition FROM resources ORDER BY key').all() as Array<{
      key: string;
      partition: string;
    }>;
    return Object.fromEntries(rows.map((r) => [r.key, r.partition]));
  } finally {
    db.close();
  }
}

describe('SQLite resource rows: the partition column follows the record', () => {
  it('an update in the same partition keeps it, a move updates it, a lost compare-and-set changes nothing', async () => {
    const path = join(dir, 'moves.db');
    const store = await createSqliteStore({ path });
    try {
      expect(await store.saveResource(record('h1'), null)).to.equal(true);
      expect(await store.saveResource(record('h2'), null)).to.equal(true);
      expect(await store.saveResource({ ...record('h1', 1), state: 'INITIALIZING' }, 0)).to.equal(true);
      expect(await store.saveResource({ ...record('h2', 1), partition: 'c2' }, 0)).to.equal(true);
      // Stale versions lose, in the same partition and with a move: neither the record nor the column changes.
      expect(await store.saveResource({ ...record('h1', 5), partition: 'c9' }, 3)).to.equal(false);
      expect(await store.saveResource({ ...record('h2', 5), partition: 'c2' }, 3)).to.equal(false);
      expect((await store.getResource('host:h1'))?.state).to.equal('INITIALIZING');
      expect((await store.getResource('host:h2'))?.partition).to.equal('c2');
    } finally {
      await store.close();
    }
    expect(partitionColumn(path)).to.deep.equal({ 'host:h1': 'c1', 'host:h2': 'c2' });
  });
});
