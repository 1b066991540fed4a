import { expect } from 'chai';
import { Secret } from '@hafence/core';
import { FakePowerDriver } from '@hafence/testkit';
import { describePowerDriverConformance } from '@hafence/testkit/mocha';

describePowerDriverConformance('FakePowerDriver', async () => {
  const driver = new FakePowerDriver({ password: 'pw-123' });
  const target = { host: 'h1', address: 'fake', username: 'admin', password: new Secret('pw-123') };
  driver.host('unreachable').fault = 'down';
  return {
    driver,
    target,
    readPower: async () => driver.host('h1').power,
    setPower: async (s) => {
      driver.host('h1').power = s;
    },
    wrongPasswordTarget: { ...target, password: new Secret('wrong-pw') },
    unreachableTarget: { ...target, host: 'unreachable' },
    close: async () => {},
  };
});

describe('FakePowerDriver onCommand', () => {
  it('tells every accepted command with the power before and after; refused ones are not told', async () => {
    const seen: string[] = [];
    const driver = new FakePowerDriver({
      onCommand: (host, cmd, before, after) => seen.push(`${host} ${cmd} ${before}→${after}`),
    });
    const target = { host: 'w1', address: 'fake', username: 'admin', password: new Secret('secret') };
    const options = { signal: new AbortController().signal, timeoutMs: 1_000 };
    await driver.control(target, 'off', options);
    await driver.control(target, 'on', options);
    await driver.control(target, 'cycle', options);
    const refused = await driver.control({ ...target, password: new Secret('wrong') }, 'off', options).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).to.include({ code: 'HAF1001' });
    expect(seen).to.deep.equal(['w1 off ON→OFF', 'w1 on OFF→ON', 'w1 cycle ON→ON']);
  });
});
