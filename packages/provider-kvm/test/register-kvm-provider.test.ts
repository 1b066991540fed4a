import { expect } from 'chai';
import {
  HA_SERVICE,
  POWER_SERVICE,
  Secret,
  createHaContainer,
  registerPowerDriver,
  type HaEvent,
  type HaService,
  type PowerManagementService,
} from '@hafence/core';
import { registerKvmProvider } from '@hafence/provider-kvm';
import { FakePowerDriver, TestClock } from '@hafence/testkit';
import { FakeKvm } from './helpers/fake-ports.js';

const MIN = 60_000;
const PASSWORD = 'kvm-register-pw';

describe('registerKvmProvider (the whole wiring: register calls and one resolve)', () => {
  it('a dead host with a working BMC is recovered by verified power; power events arrive on the one stream', async () => {
    const clock = new TestClock();
    const c = createHaContainer({ clock, config: { startupGrace: 0 }, powerConfig: { defaultPowerDrivers: ['fake'] } });
    const driver = new FakePowerDriver({ clock, password: PASSWORD, latencyMs: 5 });
    const kvm = new FakeKvm(clock);
    kvm.powered = (h) => driver.host(h).power === 'ON';
    registerPowerDriver(c, driver);
    registerKvmProvider(c, { agents: kvm, neighbors: kvm, inventory: kvm });
    const ha = c.resolve<HaService>(HA_SERVICE);
    const events: HaEvent[] = [];
    ha.events$.subscribe((e) => events.push(e));
    await ha.start();
    await ha.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
    for (const id of ['h1', 'h2', 'h3']) {
      kvm.host(id);
      await ha.addResource({
        ref: { type: 'host', id },
        partition: 'c1',
        power: { target: { host: id, address: `bmc-${id}`, username: 'admin', password: new Secret(PASSWORD) } },
      });
    }
    await clock.advance(2 * MIN);
    // The provider sees the power the container's power service tracks.
    expect(c.resolve<PowerManagementService>(POWER_SERVICE).state('h2')).to.equal('ON');
    for (const id of ['h1', 'h2', 'h3']) expect(ha.resource({ type: 'host', id }).state, id).to.equal('AVAILABLE');
    Object.assign(kvm.host('h2'), { alive: false, agentUp: false });
    await clock.advance(60 * MIN);
    const released = events.flatMap((e) => (e.type === 'workloads.released' && e.resource === 'h2' ? [e.proof] : []));
    expect(released).to.deep.equal(['power-off']);
    expect(events.some((e) => e.type === 'power.action' && e.host === 'h2' && e.action === 'off')).to.equal(true);
    await ha.stop();
  });
});
