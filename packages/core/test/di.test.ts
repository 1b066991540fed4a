import { expect } from 'chai';
import { container as globalContainer } from 'tsyringe';
import {
  CLOCK,
  HA_CONFIG,
  HA_PROVIDERS,
  HA_SERVICE,
  LOGGER,
  POWER_BACKEND,
  POWER_CONFIG,
  POWER_DRIVERS,
  POWER_SERVICE,
  STATE_STORE,
  HaService,
  MemoryStateStore,
  PowerManagementService,
  Secret,
  createHaContainer,
  registerPowerDriver,
  registerProvider,
  type HAProvider,
  type HaConfig,
  type HaEvent,
} from '@hafence/core';
import { FakeProvider, TestClock } from '@hafence/testkit';
import { ScriptedDriver } from './power-service-helpers.js';

const TOKENS = {
  CLOCK,
  HA_CONFIG,
  HA_PROVIDERS,
  HA_SERVICE,
  LOGGER,
  POWER_BACKEND,
  POWER_CONFIG,
  POWER_DRIVERS,
  POWER_SERVICE,
  STATE_STORE,
};

describe('createHaContainer', () => {
  it('builds independent child containers, each with its own clock, store, config and service', () => {
    const clockA = new TestClock();
    const clockB = new TestClock(0);
    const a = createHaContainer({ clock: clockA, config: { defaults: { healthCheckInterval: '5s' } } });
    const b = createHaContainer({ clock: clockB });
    expect(a).to.not.equal(b);
    expect(a.resolve(CLOCK)).to.equal(clockA);
    expect(b.resolve(CLOCK)).to.equal(clockB);
    expect(a.resolve<HaConfig>(HA_CONFIG).defaults.healthCheckInterval).to.equal(5_000);
    expect(b.resolve<HaConfig>(HA_CONFIG).defaults.healthCheckInterval).to.equal(undefined);
    expect(a.resolve(STATE_STORE)).to.be.instanceOf(MemoryStateStore);
    expect(a.resolve(STATE_STORE)).to.not.equal(b.resolve(STATE_STORE));
    expect(a.resolve(HA_SERVICE)).to.not.equal(b.resolve(HA_SERVICE));
  });

  it('uses the store and logger it is given', () => {
    const store = new MemoryStateStore();
    const logger = { debug() {}, info() {}, warn() {}, error() {} };
    const c = createHaContainer({ store, logger });
    expect(c.resolve(STATE_STORE)).to.equal(store);
    expect(c.resolve(LOGGER)).to.equal(logger);
  });

  it('validates the configuration when the container is built', () => {
    expect(() => createHaContainer({ config: { clusters: { c1: { healthCheckInterval: 'ten' } } } })).to.throw(
      /clusters\.c1\.healthCheckInterval/,
    );
  });

  it('resolves several providers under HA_PROVIDERS with resolveAll, including ones registered later', async () => {
    const clock = new TestClock();
    const hosts = new FakeProvider({ clock, resourceType: 'host' });
    const vms = new FakeProvider({ clock, resourceType: 'vm' });
    const storage = new FakeProvider({ clock, resourceType: 'storage' });
    const c = createHaContainer({ clock, providers: [hosts, vms] });
    c.register(HA_PROVIDERS, { useValue: storage }); // a plugin package adds its own
    expect(c.resolveAll<HAProvider>(HA_PROVIDERS)).to.deep.equal([hosts, vms, storage]);

    const ha = c.resolve<HaService>(HA_SERVICE);
    await ha.start();
    await ha.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
    for (const type of ['host', 'vm', 'storage'])
      await ha.addResource({ ref: { type, id: `${type}1` }, partition: 'c1' });
    expect(ha.list().map((r) => r.ref.type)).to.deep.equal(['host', 'vm', 'storage']);
    await ha.stop();
  });

  it('builds a service with no providers when none is registered', () => {
    const ha = createHaContainer({ clock: new TestClock() }).resolve<HaService>(HA_SERVICE);
    expect(ha).to.be.instanceOf(HaService);
  });

  it('keeps one HaService per container (a singleton within it)', () => {
    const c = createHaContainer({ clock: new TestClock(), config: { startupGrace: '1m' } });
    const first = c.resolve<HaService>(HA_SERVICE);
    expect(c.resolve(HA_SERVICE)).to.equal(first);
    expect(first.config.startupGrace).to.equal(60_000);
    expect(createHaContainer({ clock: new TestClock() }).resolve(HA_SERVICE)).to.not.equal(first);
  });

  it('registers nothing in the global tsyringe container', () => {
    const c = createHaContainer({ providers: [new FakeProvider()], power: { has: () => false } as never });
    c.resolve(HA_SERVICE);
    for (const [name, token] of Object.entries(TOKENS)) {
      expect(globalContainer.isRegistered(token, true), name).to.equal(false);
    }
    expect(() => globalContainer.resolve(HA_SERVICE)).to.throw();
  });

  it('a service first resolved through a grandchild container still gets the providers', async () => {
    const c = createHaContainer({ providers: [new FakeProvider({ clock: new TestClock() })], clock: new TestClock() });
    const ha = c.createChildContainer().resolve<HaService>(HA_SERVICE);
    await ha.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
    await ha.addResource({ ref: { type: 'host', id: 'h1' }, partition: 'c1' });
    expect(ha.resource({ type: 'host', id: 'h1' }).partition).to.equal('c1');
    await ha.stop();
  });

  it('builds the power service from every registered driver and the engine owns it: one register call per plugin, one resolve', async () => {
    const clock = new TestClock();
    const c = createHaContainer({
      clock,
      config: { powerSyncInterval: '1s' },
      powerConfig: { defaultPowerDrivers: ['b'] },
    });
    const a = new ScriptedDriver('a');
    const b = new ScriptedDriver('b');
    registerPowerDriver(c, a);
    registerPowerDriver(c, () => b);
    registerProvider(c, (k) => new FakeProvider({ clock: k.resolve(CLOCK) }));
    const ha = c.resolve<HaService>(HA_SERVICE);
    const power = c.resolve<PowerManagementService>(POWER_SERVICE);
    expect(power).to.be.instanceOf(PowerManagementService);
    const events: HaEvent[] = [];
    ha.events$.subscribe((e) => events.push(e));
    await ha.start();
    await ha.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
    await ha.addResource({
      ref: { type: 'host', id: 'h1' },
      partition: 'c1',
      power: { target: { host: 'h1', address: 'x', password: new Secret('pw') } },
    });
    await clock.advance(5_000);
    // The sync daemon was started by the engine, through the default driver `b` only.
    expect(b.calls).to.include('status');
    expect(a.calls).to.deep.equal([]);
    expect(power.state('h1')).to.equal('ON');
    // Power events arrive on the engine's one stream.
    expect(events.some((e) => e.type === 'power.transition' && e.host === 'h1')).to.equal(true);
    await ha.stop();
    // Closed with the engine: no more reads.
    const reads = b.calls.length;
    await clock.advance(60_000);
    expect(b.calls.length).to.equal(reads);
  });
});
