import { expect } from 'chai';
import {
  HaService,
  MemoryStateStore,
  NotOwnerError,
  type HaEvent,
  type PartitionRecord,
  type ResourceRecord,
} from '@hafence/core';
import { createFakeCluster, FakeProvider, TestClock, type FakeCluster } from '@hafence/testkit';
import { MIN, cluster, path, stops } from './cluster-views.js';

const h = (id: string) => ({ type: 'host', id });
const alice = { by: 'alice', reason: 'disk swap' };

function audits(events: readonly HaEvent[]) {
  return events.filter((e) => e.type === 'operator.action');
}

/** The error a call threw or rejected with. */
async function failure(fn: () => unknown): Promise<{ code?: string } & Record<string, unknown>> {
  try {
    await fn();
  } catch (err) {
    return err as { code?: string } & Record<string, unknown>;
  }
  throw new Error('expected a failure');
}

describe('operator maintenance (docs/behaviour.md#operator-actions)', () => {
  let c: FakeCluster;
  afterEach(async () => c?.close());

  it('takes a resource INELIGIBLE at once and keeps it there while health checks pass; off → INITIALIZING', async () => {
    c = await cluster();
    await c.service.setMaintenance(h('h2'), true, alice);
    const at = c.clock.now();
    expect(c.service.describeResource(h('h2'))).to.deep.include({
      state: 'INELIGIBLE',
      maintenance: { inventory: false, operator: { by: 'alice', at, reason: 'disk swap' } },
    });
    expect(audits(c.events)).to.deep.equal([
      { t: at, type: 'operator.action', by: 'alice', action: 'maintenance-on', target: 'host:h2', reason: 'disk swap' },
    ]);
    await c.clock.advance(10 * MIN); // the provider says "not in maintenance" on every check
    expect(c.service.resource(h('h2')).state).to.equal('INELIGIBLE');
    await c.service.setMaintenance(h('h2'), false, { by: 'bob' });
    expect(c.service.describeResource(h('h2')).maintenance).to.deep.equal({ inventory: false });
    expect(audits(c.events).map((e) => [e.action, e.by, e.reason])).to.deep.equal([
      ['maintenance-on', 'alice', 'disk swap'],
      ['maintenance-off', 'bob', undefined],
    ]);
    await c.clock.advance(5 * MIN);
    expect(path(c.events, 'h2').slice(-3)).to.deep.equal([
      'AVAILABLE→INELIGIBLE',
      'INELIGIBLE→INITIALIZING',
      'INITIALIZING→AVAILABLE',
    ]);
  });

  it('a crash in maintenance is never suspected or fenced', async () => {
    c = await cluster();
    await c.service.setMaintenance(h('h5'), true, alice);
    Object.assign(c.provider.host('h5'), { crashed: true, stuck: true });
    await c.clock.advance(30 * MIN);
    expect(path(c.events, 'h5').slice(-1)).to.deep.equal(['AVAILABLE→INELIGIBLE']);
    expect(stops(c)).to.equal(0);
  });

  it('set over the provider’s own maintenance: accepted and recorded; off clears only the operator’s flag', async () => {
    c = await cluster();
    c.provider.host('h4').maintenance = true;
    await c.clock.advance(MIN);
    expect(c.service.resource(h('h4')).state).to.equal('INELIGIBLE');
    const transitions = path(c.events, 'h4').length;
    await c.service.setMaintenance(h('h4'), true, alice);
    expect(c.service.describeResource(h('h4')).maintenance).to.deep.include({ inventory: true });
    expect(c.service.describeResource(h('h4')).maintenance.operator?.by).to.equal('alice');
    await c.service.setMaintenance(h('h4'), false, alice);
    await c.clock.advance(MIN);
    expect(c.service.describeResource(h('h4'))).to.deep.include({
      state: 'INELIGIBLE',
      maintenance: { inventory: true },
    });
    expect(path(c.events, 'h4')).to.have.length(transitions); // no transition either way
    c.provider.host('h4').maintenance = false;
    await c.clock.advance(MIN);
    expect(path(c.events, 'h4').slice(-2)).to.deep.equal(['INELIGIBLE→INITIALIZING', 'INITIALIZING→AVAILABLE']);
  });

  it('survives a restart: the flag is in the resource record and keeps the resource INELIGIBLE', async () => {
    const store = new MemoryStateStore();
    c = await cluster({ store });
    await c.service.setMaintenance(h('h2'), true, alice);
    const mark = (await store.getResource('host:h2'))?.operatorMaintenance;
    expect(mark).to.deep.equal({ by: 'alice', at: c.clock.now(), reason: 'disk swap' });
    await c.close();
    c = await createFakeCluster({ hosts: 6, store, clock: c.clock, config: { startupGrace: 0 } });
    await c.clock.advance(10 * MIN);
    expect(c.service.describeResource(h('h2'))).to.deep.include({
      state: 'INELIGIBLE',
      maintenance: { inventory: false, operator: mark },
    });
    expect(path(c.events, 'h2')).to.deep.equal([]); // resumed INELIGIBLE, never left
  });

  it('after an INACTIVE spell the flagged resource goes back to INELIGIBLE, not through AVAILABLE', async () => {
    c = await cluster();
    await c.service.setMaintenance(h('h3'), true, alice);
    await c.service.setHaEnabled('c1', false);
    await c.clock.advance(MIN);
    expect(c.service.resource(h('h3')).state).to.equal('NONE');
    await c.service.setHaEnabled('c1', true);
    await c.clock.advance(MIN);
    expect(path(c.events, 'h3').slice(-3)).to.deep.equal([
      'INELIGIBLE→NONE',
      'NONE→INITIALIZING',
      'INITIALIZING→INELIGIBLE',
    ]);
  });

  it('bad input is refused with a typed error and nothing written or emitted', async () => {
    c = await cluster();
    const records = JSON.stringify(await c.store.loadResources());
    expect((await failure(() => c.service.setMaintenance(h('nope'), true, alice))).code).to.equal('HAF2002');
    expect((await failure(() => c.service.setMaintenance(h('h1'), true, { by: '' }))).code).to.equal('HAF2004');
    expect((await failure(() => c.service.setMaintenance(h('h1'), 'yes' as never, alice))).code).to.equal('HAF2004');
    expect((await failure(() => c.service.setHaEnabled('nope', false, alice))).code).to.equal('HAF2002');
    expect((await failure(() => c.service.resumeFencing('nope', alice))).code).to.equal('HAF2002');
    expect((await failure(() => c.service.resumeFencing('z1', alice))).code, 'a zone has no budget').to.equal(
      'HAF2002',
    );
    expect(JSON.stringify(await c.store.loadResources())).to.equal(records);
    expect(audits(c.events)).to.deep.equal([]);
  });
});

describe('the operator HA switch (docs/behaviour.md#operator-actions)', () => {
  let c: FakeCluster;
  afterEach(async () => c?.close());

  it('is audited, persisted in the partition record and wins over haEnabled after a restart', async () => {
    const store = new MemoryStateStore();
    c = await cluster({ store });
    await c.service.setHaEnabled('c1', false, { by: 'alice', reason: 'network work' });
    const at = c.clock.now();
    await c.clock.advance(MIN);
    expect(c.service.partitionState('c1')).to.equal('NONE');
    expect(audits(c.events)).to.deep.equal([
      { t: at, type: 'operator.action', by: 'alice', action: 'ha-disable', target: 'c1', reason: 'network work' },
    ]);
    const override = { enabled: false, by: 'alice', at, reason: 'network work' };
    const record = (await store.loadPartitions()).find((p) => p.id === 'c1');
    expect(record?.haOverride).to.deep.equal(override);
    await c.close();
    // the embedder adds c1 with haEnabled: true again
    c = await createFakeCluster({ hosts: 6, store, clock: c.clock, config: { startupGrace: 0 } });
    await c.clock.advance(5 * MIN);
    expect(c.service.partitionState('c1')).to.equal('NONE');
    expect(c.service.describePartitions().find((p) => p.id === 'c1')).to.deep.include({
      haEnabled: false,
      haOverride: override,
    });
    expect(c.service.list().every((r) => r.state === 'NONE')).to.equal(true);
    // a config reload that says haEnabled: true does not undo the operator's switch
    await c.service.updatePartition({ id: 'c1', kind: 'cluster', parent: 'p1', enabled: true, haEnabled: true });
    await c.clock.advance(MIN);
    expect(c.service.partitionState('c1')).to.equal('NONE');
    await c.service.setHaEnabled('c1', true, { by: 'bob' });
    await c.clock.advance(2 * MIN);
    expect(c.service.partitionState('c1')).to.equal('ACTIVE');
    expect(c.service.describePartitions().find((p) => p.id === 'c1')?.haOverride).to.deep.include({
      enabled: true,
      by: 'bob',
    });
    expect(audits(c.events).map((e) => e.action)).to.deep.equal(['ha-enable']);
  });

  it('the embedder’s own switch (no actor) drops a persisted override: the newer word wins', async () => {
    const store = new MemoryStateStore();
    c = await cluster({ store });
    await c.service.setHaEnabled('c1', false, alice);
    await c.service.setHaEnabled('c1', true);
    await c.clock.advance(2 * MIN);
    expect(c.service.partitionState('c1')).to.equal('ACTIVE');
    expect(c.service.describePartitions().find((p) => p.id === 'c1')?.haOverride).to.equal(undefined);
    expect((await store.loadPartitions()).find((p) => p.id === 'c1')?.haOverride).to.equal(undefined);
    expect(audits(c.events)).to.have.length(1);
  });

  it('a zone’s switch (no provider of its kind) persists in a record of its own', async () => {
    const store = new MemoryStateStore();
    c = await cluster({ store });
    await c.service.setHaEnabled('z1', false, alice);
    await c.close();
    c = await createFakeCluster({ hosts: 6, store, clock: c.clock, config: { startupGrace: 0 } });
    const z1 = c.service.describePartitions().find((p) => p.id === 'z1');
    expect(z1).to.deep.include({ haEnabled: false, state: 'NONE' });
    expect(z1?.haOverride).to.deep.include({ enabled: false, by: 'alice' });
  });
});

describe('operator actions with several servers (docs/behaviour.md#several-servers)', () => {
  it('a server that does not own the partition refuses with NotOwnerError naming the owner; nothing written', async () => {
    const clock = new TestClock();
    const store = new MemoryStateStore();
    const one = await ownedServer(clock, store, 'ms1');
    const two = await ownedServer(clock, store, 'ms2');
    await clock.advance(60_000);
    const [owner, other] = one.ha.list().length > 0 ? [one, two] : [two, one];
    const ownerId = owner === one ? 'ms1' : 'ms2';
    const records = JSON.stringify([await store.loadResources(), await store.loadPartitions()]);

    const refusals = [
      await failure(() => other.ha.setMaintenance(h('h1'), true, alice)),
      await failure(() => other.ha.setHaEnabled('c1', false, alice)),
      await failure(() => other.ha.resumeFencing('c1', alice)),
    ];
    for (const err of refusals) {
      expect(err).to.be.instanceOf(NotOwnerError);
      expect(err).to.deep.include({ code: 'HAF2008', partition: 'c1', owner: ownerId });
    }
    expect(JSON.stringify([await store.loadResources(), await store.loadPartitions()])).to.equal(records);
    expect(audits(other.events)).to.deep.equal([]);

    // what each server shows
    expect(other.ha.describeResources().map((r) => [r.ref.id, r.state, r.owned])).to.deep.equal([
      ['h1', 'NONE', false],
      ['h2', 'NONE', false],
    ]);
    expect(owner.ha.describeResources().map((r) => [r.ref.id, r.owned])).to.deep.equal([
      ['h1', true],
      ['h2', true],
    ]);
    const mine = owner.ha.describePartitions()[0]!;
    expect(mine.lease).to.deep.equal({ held: true, epoch: 1 });
    const theirs = other.ha.describePartitions()[0]!;
    expect(theirs).to.deep.include({ lease: { held: false }, state: 'NONE', reason: `run by server '${ownerId}'` });

    // the owner writes, fenced, and both overrides land in the shared records
    await owner.ha.setMaintenance(h('h1'), true, alice);
    await owner.ha.setHaEnabled('c1', false, alice);
    const h1 = (await store.getResource('host:h1')) as ResourceRecord;
    expect(h1.operatorMaintenance?.by).to.equal('alice');
    const c1 = (await store.loadPartitions()).find((p) => p.id === 'c1') as PartitionRecord;
    expect(c1.haOverride).to.deep.include({ enabled: false, by: 'alice' });
    expect(audits(owner.events).map((e) => e.action)).to.deep.equal(['maintenance-on', 'ha-disable']);
    await one.ha.stop();
    await two.ha.stop();
  });

  it('a zone’s switch is refused with several servers (it is no one server’s)', async () => {
    const clock = new TestClock();
    const store = new MemoryStateStore();
    const one = await ownedServer(clock, store, 'ms1', true);
    await clock.advance(60_000);
    expect((await failure(() => one.ha.setHaEnabled('z1', false, alice))).code).to.equal('HAF2004');
    await one.ha.stop();
  });
});

/** A service of server `msId` over the shared `store`, owning cluster c1 (hosts h1, h2) once it holds the lease. */
async function ownedServer(clock: TestClock, store: MemoryStateStore, msId: string, zone = false) {
  const events: HaEvent[] = [];
  const ha = new HaService({
    providers: [new FakeProvider({ clock })],
    clock,
    store,
    config: { startupGrace: 0 },
    ownership: { coordination: store, msId, runId: `${msId}-r1` },
  });
  ha.events$.subscribe((e) => events.push(e));
  await ha.start();
  if (zone) await ha.addPartition({ id: 'z1', kind: 'zone', enabled: true, haEnabled: true });
  await ha.addPartition({
    id: 'c1',
    kind: 'cluster',
    enabled: true,
    haEnabled: true,
    ...(zone ? { parent: 'z1' } : {}),
  });
  for (const id of ['h1', 'h2']) await ha.addResource({ ref: h(id), partition: 'c1' });
  return { ha, events };
}
