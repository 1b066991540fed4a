import { expect } from 'chai';
import { HaService, MemoryStateStore, parseConfig, PowerManagementService, Secret, type HaEvent } from '@hafence/core';
import { KvmProvider } from '@hafence/provider-kvm';
import { FakePowerDriver, TestClock } from '@hafence/testkit';
import { FakeKvm } from './helpers/fake-ports.js';

const MIN = 60_000;
const PASSWORD = 'kvm-scenario-pw';

interface Cluster {
  clock: TestClock;
  kvm: FakeKvm;
  driver: FakePowerDriver;
  service: HaService;
  power: PowerManagementService;
  events: HaEvent[];
}

/** The real engine and power service with the KVM provider over fake ports and fake BMCs. */
async function cluster(hosts = 4): Promise<Cluster> {
  const clock = new TestClock();
  const config = parseConfig({ startupGrace: 0, defaultPowerDrivers: ['fake'] });
  const driver = new FakePowerDriver({ clock, password: PASSWORD, latencyMs: 5 });
  const power = new PowerManagementService({
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
  const kvm = new FakeKvm(clock);
  kvm.powered = (h) => driver.host(h).power === 'ON';
  const provider = new KvmProvider({
    agents: kvm,
    neighbors: kvm,
    inventory: kvm,
    clock,
    powerState: (h) => power.state(h),
  });
  const service = new HaService({ providers: [provider], clock, store: new MemoryStateStore(), config, power });
  const events: HaEvent[] = [];
  service.events$.subscribe((e) => events.push(e));
  await service.start();
  await service.addPartition({ id: 'z1', kind: 'zone', enabled: true, haEnabled: true });
  await service.addPartition({ id: 'p1', kind: 'pod', parent: 'z1', enabled: true, haEnabled: true });
  await service.addPartition({ id: 'c1', kind: 'cluster', parent: 'p1', enabled: true, haEnabled: true });
  for (let i = 1; i <= hosts; i++) {
    const id = `h${i}`;
    kvm.host(id);
    const binding = { target: { host: id, address: `bmc-${id}`, username: 'admin', password: new Secret(PASSWORD) } };
    power.register(id, binding);
    await service.addResource({ ref: { type: 'host', id }, partition: 'c1', power: binding });
  }
  power.startSync();
  await clock.advance(2 * MIN);
  return { clock, kvm, driver, service, power, events };
}

function path(events: readonly HaEvent[], host: string): string[] {
  return events.flatMap((e) => (e.type === 'resource.transition' && e.resource === host ? [`${e.from}→${e.to}`] : []));
}

function releases(events: readonly HaEvent[], host: string): string[] {
  return events.flatMap((e) => (e.type === 'workloads.released' && e.resource === host ? [e.proof] : []));
}

describe('KVM provider in the real engine (virtual time)', () => {
  let c: Cluster;
  afterEach(async () => {
    await c?.service.stop();
    await c?.power.close();
  });

  it('all hosts become AVAILABLE and their agents are armed', async () => {
    c = await cluster();
    for (const id of ['h1', 'h2', 'h3', 'h4'])
      expect(c.service.resource({ type: 'host', id }).state, id).to.equal('AVAILABLE');
  });

  it('a dead host whose BMC is also unreachable is FENCED by the self-fence lease, released once with proof "lease"', async () => {
    c = await cluster();
    Object.assign(c.kvm.host('h2'), { alive: false, agentUp: false });
    c.driver.host('h2').fault = 'down';
    await c.clock.advance(60 * MIN);
    const p = path(c.events, 'h2');
    expect(p).to.include('RECOVERING→FENCING');
    expect(p[p.length - 1]).to.equal('FENCING→FENCED');
    expect(releases(c.events, 'h2')).to.deep.equal(['lease']);
  });

  it('a host alive but cut off from the control plane is never released (heartbeat advancing)', async () => {
    c = await cluster();
    c.kvm.host('h3').agentUp = false;
    await c.clock.advance(60 * MIN);
    expect(path(c.events, 'h3')).to.include('CHECKING→DEGRADED');
    expect(releases(c.events, 'h3')).to.deep.equal([]);
    expect(c.driver.host('h3').power).to.equal('ON');
  });

  it('a dead host with a working BMC is recovered by verified power and released with proof "power-off"', async () => {
    c = await cluster();
    Object.assign(c.kvm.host('h4'), { alive: false, agentUp: false });
    await c.clock.advance(60 * MIN);
    expect(path(c.events, 'h4')).to.include('CHECKING→RECOVERING');
    expect(releases(c.events, 'h4')[0]).to.equal('power-off');
    expect(releases(c.events, 'h4')).to.have.length(1);
  });
});
