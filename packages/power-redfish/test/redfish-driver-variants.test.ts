import { expect } from 'chai';
import { Secret, type ChassisCommand } from '@hafence/core';
import { REDFISH_VARIANTS, redfishVariantProfile, type RedfishSim } from '@hafence/sim';
import type { RedfishPowerDriver } from '@hafence/power-redfish';
import { CaptureLogger, SIM_PASSWORD, simDriver, simGet, simTarget, startSim } from './helpers/sim-fixture.js';

const call = () => ({ signal: AbortSignal.timeout(8000), timeoutMs: 6000 });
const WANTED: Record<ChassisCommand, readonly string[]> = {
  on: ['On', 'ForceOn'],
  off: ['ForceOff'],
  soft: ['GracefulShutdown'],
  reset: ['ForceRestart'],
  cycle: ['PowerCycle'],
};

for (const variant of REDFISH_VARIANTS) {
  describe(`RedfishPowerDriver with the ${variant} variant`, function () {
    this.timeout(30_000);
    const profile = redfishVariantProfile(variant);
    let sim: RedfishSim;
    let driver: RedfishPowerDriver;
    const logger = new CaptureLogger();

    before(async () => {
      sim = await startSim(variant);
      driver = simDriver(sim, { logger });
    });
    after(async () => {
      await driver.close();
      await sim.close();
      expect(logger.text()).to.not.include(SIM_PASSWORD);
    });

    for (const command of ['off', 'on', 'soft', 'reset', 'cycle'] as const) {
      it(`${command}: the ResetType the system offers, or an UnsupportedOperationError naming the missing one`, async () => {
        sim.setPowerState(command === 'on' ? 'Off' : 'On');
        const offered = WANTED[command].find((t) => profile.resetTypes.includes(t));
        const before = sim.resets.length;
        const err = await driver.control(simTarget(sim), command, call()).catch((e: unknown) => e);
        if (offered) {
          expect(err).to.equal(undefined);
          expect(sim.resets.slice(before).map((r) => r.resetType)).to.deep.equal([offered]);
        } else {
          expect((err as { code?: string }).code).to.equal('HAF1005');
          expect((err as Error).message).to.include(WANTED[command][0]);
          expect(sim.resets.length).to.equal(before);
        }
      });
    }

    it('off when already off sends nothing (a BMC may refuse it); status reads OFF', async () => {
      sim.setPowerState('Off');
      const before = sim.resets.length;
      await driver.control(simTarget(sim), 'off', call());
      expect(sim.resets.length).to.equal(before);
      expect(await driver.status(simTarget(sim), call())).to.equal('OFF');
    });

    it('identify sets the indicator (with If-Match where the BMC requires it)', async () => {
      await driver.identify(simTarget(sim), 10, call());
      expect((await simGet(sim, sim.systemUri)).IndicatorLED).to.equal('Blinking');
      await driver.identify(simTarget(sim), 0, call());
      expect((await simGet(sim, sim.systemUri)).IndicatorLED).to.equal('Off');
    });

    it('finds the system by its configured id, and refuses an unknown one', async () => {
      expect(await driver.status(simTarget(sim, { systemId: profile.systemId }), call())).to.be.oneOf(['ON', 'OFF']);
      const err = await driver.status(simTarget(sim, { systemId: 'Nope.9' }), call()).catch((e: unknown) => e);
      expect((err as { code?: string }).code).to.equal('HAF1004');
    });

    it('one session and few connections for many calls; close() logs out', async () => {
      const d = simDriver(sim);
      const created = sim.stats.sessionsCreated;
      const connections = sim.stats.connections;
      const t = simTarget(sim);
      for (let i = 0; i < 10; i++) await d.status(t, call());
      await Promise.all(Array.from({ length: 10 }, () => d.status(t, call())));
      expect(sim.stats.sessionsCreated - created).to.equal(1);
      expect(sim.stats.connections - connections).to.be.at.most(2);
      const open = sim.stats.sessionsOpen;
      await d.close();
      expect(sim.stats.sessionsOpen).to.equal(open - 1);
    });

    it('redfishPort wins over the target port (the IPMI one in a [redfish, ipmi] chain)', async () => {
      const t = { ...simTarget(sim, { redfishPort: sim.port }), port: 623 };
      expect(await driver.status(t, call())).to.be.oneOf(['ON', 'OFF']);
    });

    it('a wrong password and the right one are separate sessions', async () => {
      const bad = { ...simTarget(sim), password: new Secret('wrong-one') };
      expect(await driver.status(bad, call()).catch((e: { code?: string }) => e)).to.have.property('code', 'HAF1001');
      expect(await driver.status(simTarget(sim), call())).to.be.oneOf(['ON', 'OFF']);
    });
  });
}
