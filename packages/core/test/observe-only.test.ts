import { expect } from 'chai';
import { MemoryStateStore, type HaEvent, type Partition } from '@hafence/core';
import { createFakeCluster, type FakeCluster, type FakeClusterOptions } from '@hafence/testkit';
import { MIN, alertCodes, cluster, path, stops } from './cluster-views.js';

/**
 * Observe-only (docs/observe-only.md): checks, decisions, transitions and events as usual, but no power command —
 * each is one `would.power.action` event — and no fence budget or intent in the store. A zone's or pod's flag covers
 * the clusters inside it; switched to acting, a failure decided while observing is verified again before any command.
 */

type WouldEvent = Extract<HaEvent, { type: 'would.power.action' }>;

const would = (events: readonly HaEvent[], host: string): WouldEvent[] =>
  events.filter((e): e is WouldEvent => e.type === 'would.power.action' && e.resource === host);

const commands = (events: readonly HaEvent[], host: string, action?: string) =>
  events.filter((e) => e.type === 'power.action' && e.host === host && (action === undefined || e.action === action));

/** Every operation the fake BMC of `host` received that is not a status read. */
const bmcCommands = (c: FakeCluster, host: string) => c.driver.host(host).log.filter((op) => op !== 'status');

const state = (c: FakeCluster, host: string) => c.service.resource({ type: 'host', id: host }).state;

async function until(c: FakeCluster, done: () => boolean, stepMs = 100, limitMs = 3 * 3_600_000): Promise<void> {
  for (let t = 0; t < limitMs && !done(); t += stepMs) await c.clock.advance(stepMs);
  expect(done(), 'condition not reached in virtual time').to.equal(true);
}

/** The fake cluster's partitions z1 ⊃ p1 ⊃ c1, as `createFakeCluster` adds them. */
const PARTITIONS: Record<string, Partition> = {
  z1: { id: 'z1', kind: 'zone', enabled: true, haEnabled: true },
  p1: { id: 'p1', kind: 'pod', parent: 'z1', enabled: true, haEnabled: true },
  c1: { id: 'c1', kind: 'cluster', parent: 'p1', enabled: true, haEnabled: true },
};

async function observe(c: FakeCluster, id: keyof typeof PARTITIONS, on: boolean): Promise<void> {
  await c.service.updatePartition({ ...PARTITIONS[id]!, observeOnly: on });
}

/** A cluster whose zone z1 is observe-only from the start (before anything could fail). */
async function observedZone(options: FakeClusterOptions = {}): Promise<FakeCluster> {
  const c = await createFakeCluster({ hosts: 6, ...options, config: { startupGrace: 0, ...options.config } });
  await observe(c, 'z1', true);
  await c.clock.advance(MIN);
  return c;
}

describe('observe-only', () => {
  let c: FakeCluster;
  afterEach(async () => c?.close());

  it('engine-wide: a crash is detected and decided, one would-be off is emitted, the BMC receives no command', async () => {
    c = await cluster({ config: { observeOnly: true } });
    expect(c.service.isObserveOnly('c1')).to.equal(true);
    c.provider.host('h3').crashed = true;
    await until(c, () => would(c.events, 'h3').length > 0);
    const [first] = would(c.events, 'h3');
    expect(first).to.deep.include({ host: 'h3', resource: 'h3', resourceType: 'host', action: 'off', by: 'ha' });
    expect(path(c.events, 'h3')).to.include.members(['AVAILABLE→SUSPECT', 'SUSPECT→CHECKING', 'CHECKING→RECOVERING']);
    // Held like a command the budget holds: no retry loop, no made-up failure, no FAILED.
    await c.clock.advance(60 * MIN);
    expect(would(c.events, 'h3')).to.have.length(1);
    expect(state(c, 'h3')).to.equal('RECOVERING');
    expect(path(c.events, 'h3')).to.not.include('RECOVERING→FENCING');
    expect(commands(c.events, 'h3')).to.deep.equal([]);
    expect(bmcCommands(c, 'h3')).to.deep.equal([]);
    expect(c.driver.host('h3').log).to.include('status'); // status reads are made
    expect(stops(c)).to.equal(0); // the fence budget in the store is untouched
    expect(await c.store.listIntents()).to.deep.equal([]);
    expect(c.service.deadlineViolations()).to.deep.equal([]);
  });

  it('the would-be command is stored in the event history like the other engine events', async () => {
    c = await cluster({ config: { observeOnly: true } });
    c.provider.host('h2').crashed = true;
    await until(c, () => would(c.events, 'h2').length > 0);
    await c.clock.advance(1_000);
    const stored = await c.store.listEvents({ limit: 100_000 });
    const kept = stored.filter((e) => e.type === 'would.power.action');
    expect(kept).to.have.length(1);
    expect(JSON.parse(kept[0]!.json)).to.deep.include({ resource: 'h2', action: 'off' });
  });

  it("a zone's flag covers the clusters inside it; other zones act", async () => {
    c = await observedZone();
    expect(c.service.isObserveOnly('c1')).to.equal(true);
    expect(c.service.isObserveOnly('p1')).to.equal(true);
    c.provider.host('h4').crashed = true;
    await until(c, () => would(c.events, 'h4').length > 0);
    await c.clock.advance(30 * MIN);
    expect(would(c.events, 'h4').map((e) => e.action)).to.deep.equal(['off']);
    expect(bmcCommands(c, 'h4')).to.deep.equal([]);
    expect(commands(c.events, 'h4')).to.deep.equal([]);
    expect(stops(c)).to.equal(0);
  });

  it('a host healthy again while its would-be recovery is held goes AVAILABLE without any command', async () => {
    c = await observedZone();
    c.provider.host('h1').crashed = true;
    await until(c, () => would(c.events, 'h1').length > 0);
    c.provider.host('h1').crashed = false; // the HA beside it recovered the host
    await until(c, () => state(c, 'h1') === 'AVAILABLE');
    expect(path(c.events, 'h1')).to.include('RECOVERING→AVAILABLE');
    expect(bmcCommands(c, 'h1')).to.deep.equal([]);
  });

  it('the in-memory budget holds a would-be stop where the real one would be held, and says so', async () => {
    c = await observedZone({ config: { defaults: { maxFencesPerWindow: 1 } } });
    c.provider.host('h1').crashed = true;
    await until(c, () => would(c.events, 'h1').length > 0);
    c.provider.host('h2').crashed = true;
    await until(c, () => c.events.some((e) => e.type === 'alert' && e.code === 'would-halt-fencing'));
    await c.clock.advance(10 * MIN);
    expect(state(c, 'h2')).to.equal('RECOVERING');
    expect(would(c.events, 'h2')).to.deep.equal([]); // held: not (yet) a command it would send
    expect(c.events.some((e) => e.type === 'fencing.halted')).to.equal(false); // nothing is held for real
    c.service.resumeFencing('c1');
    await until(c, () => would(c.events, 'h2').length > 0);
    expect(stops(c)).to.equal(0);
    expect(bmcCommands(c, 'h1')).to.deep.equal([]);
    expect(bmcCommands(c, 'h2')).to.deep.equal([]);
  });

  describe('switching to acting', () => {
    it('a held would-be recovery is dropped and the failure verified again before the real off', async () => {
      c = await observedZone();
      c.provider.host('h3').crashed = true;
      await until(c, () => would(c.events, 'h3').length > 0);
      await c.clock.advance(5 * MIN);
      const before = c.events.length;
      await observe(c, 'z1', false);
      expect(state(c, 'h3')).to.equal('SUSPECT');
      await until(c, () => commands(c.events, 'h3', 'off').length > 0);
      const after = path(c.events.slice(before), 'h3');
      // SUSPECT first, then at least the activity checks the real engine needs, then the recovery.
      expect(after.slice(0, 2)).to.deep.equal(['RECOVERING→SUSPECT', 'SUSPECT→CHECKING']);
      expect(after).to.include('CHECKING→RECOVERING');
      const reason = c.events
        .slice(before)
        .find((e) => e.type === 'resource.transition' && e.resource === 'h3' && e.to === 'SUSPECT');
      expect(reason)
        .to.have.property('reason')
        .that.match(/^observe-ended: /);
      await until(c, () => state(c, 'h3') === 'AVAILABLE');
      expect(bmcCommands(c, 'h3')).to.deep.equal(['off', 'on']);
      expect(stops(c)).to.equal(1);
    });

    it('a healthy host whose would-be fence was held is never fenced when its zone starts acting', async () => {
      // FENCING ignores health: without re-verification the held fence would fire on a healthy host.
      c = await observedZone({ config: { defaults: { maxRecoveryAttempts: 0 } } });
      c.provider.host('h5').crashed = true;
      await until(c, () => would(c.events, 'h5').length > 0);
      expect(state(c, 'h5')).to.equal('FENCING');
      c.provider.host('h5').crashed = false; // the HA beside it recovered the host
      await c.clock.advance(5 * MIN);
      expect(state(c, 'h5')).to.equal('FENCING');
      await observe(c, 'z1', false);
      await until(c, () => state(c, 'h5') === 'AVAILABLE');
      await c.clock.advance(30 * MIN);
      expect(commands(c.events, 'h5')).to.deep.equal([]);
      expect(bmcCommands(c, 'h5')).to.deep.equal([]);
      const p = path(c.events, 'h5');
      expect(p.slice(p.indexOf('FENCING→SUSPECT'))).to.deep.equal(['FENCING→SUSPECT', 'SUSPECT→AVAILABLE']);
    });

    it("a cluster's own flag off does not make it act while its zone observes", async () => {
      c = await observedZone();
      await c.service.updatePartition({ ...PARTITIONS.c1!, observeOnly: true });
      c.provider.host('h2').crashed = true;
      await until(c, () => would(c.events, 'h2').length > 0);
      await observe(c, 'c1', false);
      await c.clock.advance(30 * MIN);
      expect(state(c, 'h2')).to.equal('RECOVERING');
      expect(bmcCommands(c, 'h2')).to.deep.equal([]);
    });

    it('a restart without observe-only verifies a failure decided while observing again', async () => {
      const store = new MemoryStateStore();
      c = await createFakeCluster({ hosts: 6, store, config: { startupGrace: 0, observeOnly: true } });
      await c.clock.advance(MIN);
      c.provider.host('h6').crashed = true;
      await until(c, () => would(c.events, 'h6').length > 0);
      const clock = c.clock;
      await c.service.stop({ closeStore: false });
      c.power.stopSync();
      await c.power.close();
      expect((await store.getResource('host:h6'))?.episode?.observed).to.equal(true);
      c = await createFakeCluster({ hosts: 6, store, clock, config: { startupGrace: 0 } });
      c.provider.host('h6').crashed = true;
      await c.clock.advance(1_000);
      expect(path(c.events, 'h6')[0]).to.equal('RECOVERING→SUSPECT');
      await until(c, () => commands(c.events, 'h6', 'off').length > 0);
      expect(path(c.events, 'h6')).to.include('CHECKING→RECOVERING');
    });
  });

  it('switching to observe-only while a stop is held by the real budget: the stop is never sent', async () => {
    c = await cluster({ config: { defaults: { maxFencesPerWindow: 1 } } });
    c.provider.host('h1').crashed = true;
    await until(c, () => commands(c.events, 'h1', 'off').length > 0);
    c.provider.host('h2').crashed = true;
    await until(c, () => c.events.some((e) => e.type === 'fencing.halted'));
    await observe(c, 'c1', true);
    c.service.resumeFencing('c1');
    await until(c, () => would(c.events, 'h2').length > 0);
    await c.clock.advance(30 * MIN);
    expect(bmcCommands(c, 'h2')).to.deep.equal([]);
    expect(alertCodes(c.events, 'h2')).to.not.include('failed');
  });
});
