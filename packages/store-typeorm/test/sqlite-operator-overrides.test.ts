import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeCluster, TestClock, type FakeCluster } from '@hafence/testkit';
import { createSqliteStore } from '@hafence/store-typeorm';

const MIN = 60_000;
const h2 = { type: 'host', id: 'h2' };

// A real SQLite file, in a temporary directory removed after the run.
const dir = mkdtempSync(join(tmpdir(), 'hafence-sqlite-operator-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function open(path: string, clock: TestClock): Promise<FakeCluster> {
  const c = await createFakeCluster({
    hosts: 4,
    store: await createSqliteStore({ path }),
    clock,
    config: { startupGrace: 0 },
  });
  await c.clock.advance(MIN);
  return c;
}

describe('SQLite store: the operator’s overrides survive a restart (docs/behaviour.md#operator-actions)', () => {
  it('keeps the maintenance flag in the resource row and the HA switch in the partition row', async () => {
    const path = join(dir, 'overrides.db');
    const clock = new TestClock();
    let c = await open(path, clock);
    await c.service.setMaintenance(h2, true, { by: 'alice', reason: 'disk swap' });
    const maintenanceAt = clock.now();
    await c.clock.advance(MIN);
    await c.service.setHaEnabled('p1', false, { by: 'bob' }); // a pod: no provider of its kind, a record of its own
    const podAt = clock.now();
    await c.close(); // closes the store

    c = await open(path, clock);
    try {
      expect(c.service.describeResource(h2)).to.deep.include({
        state: 'INELIGIBLE',
        maintenance: { inventory: false, operator: { by: 'alice', at: maintenanceAt, reason: 'disk swap' } },
      });
      const p1 = c.service.describePartitions().find((p) => p.id === 'p1');
      expect(p1).to.deep.include({ haEnabled: false, haOverride: { enabled: false, by: 'bob', at: podAt } });
      await c.service.setMaintenance(h2, false, { by: 'alice' });
      await c.service.setHaEnabled('c1', false, { by: 'bob', reason: 'network work' });
    } finally {
      await c.close();
    }

    c = await open(path, clock);
    try {
      await c.clock.advance(MIN);
      expect(c.service.describeResource(h2).maintenance).to.deep.equal({ inventory: false });
      expect(c.service.partitionState('c1')).to.equal('NONE');
      expect(c.service.describePartitions().find((p) => p.id === 'c1')?.haOverride).to.deep.include({
        enabled: false,
        by: 'bob',
        reason: 'network work',
      });
    } finally {
      await c.close();
    }
  });
});
