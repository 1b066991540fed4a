import { expect } from 'chai';
import {
  POWER_SERVICE,
  Secret,
  createHaContainer,
  registerPowerDriver,
  type PowerManagementService,
} from '@hafence/core';
import { registerRedfishDriver } from '@hafence/power-redfish';
import { FakePowerDriver } from '@hafence/testkit';
import type { RedfishSim } from '@hafence/sim';
import { SIM_PASSWORD, simTarget, startSim } from './helpers/sim-fixture.js';

describe('embedding: registerRedfishDriver and a [redfish, ipmi] chain in a container', function () {
  this.timeout(20_000);
  let sim: RedfishSim;
  let ipmi: FakePowerDriver;
  let power: PowerManagementService;
  const by = { by: 'operator' };
  const events: unknown[] = [];

  before(async () => {
    sim = await startSim('hpe'); // no PowerCycle
    const c = createHaContainer({ config: {} });
    registerRedfishDriver(c, { ca: sim.certPem });
    ipmi = new FakePowerDriver({ name: 'ipmi', password: SIM_PASSWORD });
    registerPowerDriver(c, ipmi);
    power = c.resolve<PowerManagementService>(POWER_SERVICE);
    power.events$.subscribe((e) => events.push(e));
    const target = simTarget(sim, { redfishPort: sim.port });
    power.register('kvm1', { drivers: ['redfish', 'ipmi'], target: { ...target, host: 'kvm1', port: 623 } });
  });
  after(async () => {
    await power.close();
    await sim.close();
  });

  it('the first driver of the chain answers when it can', async () => {
    sim.setPowerState('Off');
    ipmi.host('kvm1').power = 'ON';
    expect(await power.status('kvm1', by)).to.equal('OFF');
    await power.command('kvm1', 'on', by);
    expect(sim.resets.at(-1)?.resetType).to.equal('On');
    expect(ipmi.host('kvm1').log).to.deep.equal([]);
  });

  it('an action the system does not offer (PowerCycle) falls back to the next driver', async () => {
    sim.setPowerState('On');
    const before = sim.resets.length;
    await power.command('kvm1', 'cycle', by);
    expect(sim.resets.length).to.equal(before);
    expect(ipmi.host('kvm1').log).to.include('cycle');
  });

  it('a wrong password fails as an AuthError; no event carries the password', async () => {
    const bad = simTarget(sim, { redfishPort: sim.port });
    power.register('kvm2', {
      drivers: ['redfish'],
      target: { ...bad, host: 'kvm2', password: new Secret('wrong-embedded-pw') },
    });
    const err = await power.status('kvm2', by).catch((e: unknown) => e);
    expect((err as { code?: string }).code).to.equal('HAF1001');
    expect(events.length).to.be.greaterThan(0);
    const text = JSON.stringify(events);
    expect(text).to.not.include(SIM_PASSWORD).and.not.include('wrong-embedded-pw');
  });
});
