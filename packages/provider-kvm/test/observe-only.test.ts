import { expect } from 'chai';
import {
  HaService,
  MemoryStateStore,
  parseConfig,
  PowerManagementService,
  Secret,
  type HaEvent,
  type Partition,
  type ResourceSpec,
} from '@hafence/core';
import { KvmProvider, MemoryArmRecords } from '@hafence/provider-kvm';
import { FakePowerDriver, TestClock } from '@hafence/testkit';
import { at } from './helpers/at.js';
import { ctxOf, FakeKvm, inventoryOf } from './helpers/fake-ports.js';

const MIN = 60_000;
const PASSWORD = 'kvm-observe-pw';

/**
 * Observe-only (docs/observe-only.md) in the KVM provider: no arm or disarm reaches an agent, nothing is recorded as
 * decided; acting again, the provider arms as usual.
 */
describe('KVM provider, observe-only', () => {
  describe('health checks with ctx.observeOnly', () => {
    let clock: TestClock;
    let kvm: FakeKvm;
    let records: MemoryArmRecords;
    let provider: KvmProvider;
    let specs: ResourceSpec[];
    let inventory: ReturnType<typeof inventoryOf>['inventory'];

    beforeEach(() => {
      clock = new TestClock();
      kvm = new FakeKvm(clock);
      ({ inventory, specs } = inventoryOf(4));
      for (const s of specs) kvm.host(s.ref.id);
      records = new MemoryArmRecords();
      provider = new KvmProvider({ agents: kvm, neighbors: kvm, inventory: kvm, clock, armRecords: records });
    });

    const ctx = (observeOnly: boolean) => ({ ...ctxOf(clock, inventory, 'AVAILABLE'), observeOnly });

    it('an unarmed agent of an HA-enabled host is not armed, and no arm is recorded', async () => {
      kvm.host('h1').armed = false;
      expect((await provider.healthCheck(at(specs, 0), ctx(true))).healthy).to.equal(true);
      await provider.healthCheck(at(specs, 0), ctx(true));
      expect(kvm.armCalls).to.deep.equal([]);
      expect(await records.latest('h1')).to.equal(undefined);
      expect(kvm.host('h1').armed).to.equal(false);
    });

    it('an armed agent of a host in maintenance is not disarmed', async () => {
      kvm.host('h2').facts = { ...kvm.host('h2').facts, maintenance: true };
      await provider.healthCheck(at(specs, 1), ctx(true));
      expect(kvm.armCalls).to.deep.equal([]);
      expect(kvm.host('h2').armed).to.equal(true);
    });

    it('acting again, the same host is armed as usual (the gate is the only difference)', async () => {
      kvm.host('h1').armed = false;
      await provider.healthCheck(at(specs, 0), ctx(true));
      await provider.healthCheck(at(specs, 0), ctx(false));
      expect(kvm.armCalls).to.deep.equal([{ host: 'h1', armed: true, armGen: 1 }]);
    });
  });

  describe('in the real engine (virtual time)', () => {
    let clock: TestClock;
    let kvm: FakeKvm;
    let driver: FakePowerDriver;
    let service: HaService;
    let power: PowerManagementService;
    let events: HaEvent[];
    const zone: Partition = { id: 'z1', kind: 'zone', enabled: true, haEnabled: true, observeOnly: true };

    beforeEach(async () => {
      clock = new TestClock();
      const config = parseConfig({ startupGrace: 0, defaultPowerDrivers: ['fake'] });
      driver = new FakePowerDriver({ clock, password: PASSWORD, latencyMs: 5 });
      power = new PowerManagementService({
        clock,
        drivers: [driver],
        config: {
          powerOpTimeout: 20_000,
          powerReadsToUnknown: 3,
          powerSyncInterval: config.powerSyncInterval,
          powerSyncConcurrency: config.powerSyncConcurrency,
          jitterFraction: config.jitterFraction,
          seed: config.seed,
          defaultPowerDrivers: ['fake'],
        },
      });
      kvm = new FakeKvm(clock);
      kvm.powered = (h) => driver.host(h).power === 'ON';
      const provider = new KvmProvider({
        agents: kvm,
        neighbors: kvm,
        inventory: kvm,
        clock,
        powerState: (h) => power.state(h),
      });
      service = new HaService({ providers: [provider], clock, store: new MemoryStateStore(), config, power });
      events = [];
      service.events$.subscribe((e) => events.push(e));
      await service.start();
      await service.addPartition(zone);
      await service.addPartition({ id: 'p1', kind: 'pod', parent: 'z1', enabled: true, haEnabled: true });
      await service.addPartition({ id: 'c1', kind: 'cluster', parent: 'p1', enabled: true, haEnabled: true });
      for (let i = 1; i <= 4; i++) {
        const id = `h${i}`;
        kvm.host(id).armed = false;
        const binding = {
          target: { host: id, address: `bmc-${id}`, username: 'admin', password: new Secret(PASSWORD) },
        };
        await service.addResource({ ref: { type: 'host', id }, partition: 'c1', power: binding });
      }
      power.startSync();
      await clock.advance(2 * MIN);
    });

    afterEach(async () => {
      await service.stop();
      await power.close();
    });

    it('a crash is decided (would-be off) while no arm/disarm request and no power command leaves the server', async () => {
      for (const id of ['h1', 'h2', 'h3', 'h4'])
        expect(service.resource({ type: 'host', id }).state, id).to.equal('AVAILABLE');
      Object.assign(kvm.host('h4'), { alive: false, agentUp: false });
      await clock.advance(30 * MIN);
      const would = events.filter((e) => e.type === 'would.power.action');
      expect(would.map((e) => e.type === 'would.power.action' && [e.resource, e.action])).to.deep.equal([
        ['h4', 'off'],
      ]);
      expect(kvm.armCalls).to.deep.equal([]);
      expect(kvm.requests.filter((r) => r.kind === 'arm')).to.deep.equal([]);
      for (const id of ['h1', 'h2', 'h3', 'h4'])
        expect(
          driver.host(id).log.filter((op) => op !== 'status'),
          id,
        ).to.deep.equal([]);
      expect(events.filter((e) => e.type === 'power.action')).to.deep.equal([]);
    });

    it('switched to acting, the agents are armed at their next health check', async () => {
      await service.updatePartition({ ...zone, observeOnly: false });
      await clock.advance(MIN);
      expect(new Set(kvm.armCalls.map((c) => c.host))).to.deep.equal(new Set(['h1', 'h2', 'h3', 'h4']));
    });
  });
});
