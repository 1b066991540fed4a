import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { AuthError, ConfigError, TimeoutError, UnreachableError, type PowerTarget } from '@hafence/core';
import { describePowerDriverConformance } from '@hafence/testkit/mocha';
import { ScriptPowerDriver } from '@hafence/power-script';
import { BmcSims, eventually } from './helpers/bmc-sim.js';

const FIRST_PORT = 9100;
const DEAD_PORT = 9199;
let sims: BmcSims;
const cmdlines: string[] = [];
const driver = new ScriptPowerDriver({
  preset: 'ipmitool',
  // the child has exec'd when spawn reports it: its argv is what `ps` shows
  onSpawn: (pid) => cmdlines.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')),
});
const targetOf = (port: number, password?: string): PowerTarget => sims.target(port, password);
const call = (ms = 5000) => ({ signal: AbortSignal.timeout(ms), timeoutMs: ms });

describe('ScriptPowerDriver ipmitool against ipmi_sim', () => {
  before(async function () {
    this.timeout(30_000);
    sims = await BmcSims.start(3, FIRST_PORT);
  });
  after(async function () {
    this.timeout(30_000);
    await sims?.stop();
  });

  describePowerDriverConformance('ScriptPowerDriver ipmitool (real ipmitool → ipmi_sim)', async () => ({
    driver,
    target: targetOf(FIRST_PORT),
    readPower: async () => sims.readPower(FIRST_PORT),
    setPower: async (s) => sims.setPower(FIRST_PORT, s),
    wrongPasswordTarget: targetOf(FIRST_PORT, 'Wrong-Pw-1234'),
    unreachableTarget: targetOf(DEAD_PORT),
    close: async () => {},
  }));

  describe('ipmitool preset', () => {
    const port = FIRST_PORT + 1;

    it('runs every action and the simulator reports the resulting state', async function () {
      this.timeout(20_000);
      const t = targetOf(port);
      sims.setPower(port, 'OFF');
      expect(await driver.status(t, call())).to.equal('OFF');
      await driver.control(t, 'on', call());
      expect(sims.readPower(port)).to.equal('ON');
      expect(await driver.status(t, call())).to.equal('ON');
      await driver.control(t, 'soft', call());
      expect(sims.readPower(port)).to.equal('OFF');
      await driver.control(t, 'on', call());
      await driver.control(t, 'reset', call());
      expect(sims.chassisLog(port)).to.match(/reset/);
      await driver.control(t, 'cycle', call());
      expect(await eventually(() => sims.readPower(port), 'ON')).to.equal('ON');
      await driver.control(t, 'off', call());
      expect(sims.readPower(port)).to.equal('OFF');
      await driver.identify(t, 7, call());
      expect(sims.chassisLog(port)).to.match(/identify 7/);
      await driver.validate(t, call());
      expect(sims.readPower(port)).to.equal('OFF');
    });

    it('never puts the password on argv: -E and IPMI_PASSWORD, never -P', async () => {
      cmdlines.length = 0;
      await driver.status(targetOf(port), call());
      // a child that surely lives long enough to be seen
      await driver.status(targetOf(DEAD_PORT), call(800)).catch(() => {});
      expect(cmdlines).to.have.length(2);
      expect(cmdlines[1]).to.include(' -E ');
      expect(cmdlines[1]).to.not.include(sims.password);
      expect(cmdlines[0]).to.include('ipmitool').and.include(' -E ').and.include('-I lanplus');
      expect(cmdlines[0]).to.not.include(sims.password).and.not.include(' -P ');
    });

    it('a wrong password is an AuthError naming the RAKP failure, without the password', async () => {
      const err = await driver.status(targetOf(port, 'Not-The-Pw-77'), call()).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(AuthError);
      expect((err as Error).message)
        .to.include('RAKP 2 HMAC is invalid')
        .and.not.include('Not-The-Pw-77');
    });

    it('nothing listening: UnreachableError from ipmitool, or TimeoutError at the deadline', async function () {
      this.timeout(10_000);
      const started = Date.now();
      const late = await driver.status(targetOf(DEAD_PORT), call(1000)).catch((e: unknown) => e);
      expect(late).to.be.instanceOf(TimeoutError);
      expect(Date.now() - started).to.be.lessThan(2000);
      const early = await driver.status(targetOf(DEAD_PORT), call(5000)).catch((e: unknown) => e);
      expect(early).to.be.instanceOf(UnreachableError); // ipmitool gives up after its own 2 tries
    });

    it('defaults to cipher suite 17 and refuses 0 unless allowed for the host', async () => {
      const inv = await new ScriptPowerDriver({ preset: 'ipmitool' }).preset.prepare(
        { op: 'status', target: { ...targetOf(port), options: {} }, timeoutMs: 5000 },
        new AbortController().signal,
      );
      expect(inv.args.join(' ')).to.include('-C 17');
      expect(() => new ScriptPowerDriver({ preset: 'ipmitool', ipmitool: { cipher: 0 } })).to.throw(
        ConfigError,
        /cipher suite 0/,
      );
      const zero = await driver.status({ ...targetOf(port), options: { cipher: 0 } }, call()).catch((e: unknown) => e);
      expect(zero).to.be.instanceOf(ConfigError);
      expect(
        await driver.status({ ...targetOf(port), options: { cipher: 0, allowCipherZero: true } }, call()),
      ).to.be.oneOf(['ON', 'OFF']);
    });
  });
});
