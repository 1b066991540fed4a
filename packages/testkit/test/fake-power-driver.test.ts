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
    setPower: async (s) => { driver.host('h1').power = s; },
    wrongPasswordTarget: { ...target, password: new Secret('wrong-pw') },
    unreachableTarget: { ...target, host: 'unreachable' },
    close: async () => {},
  };
});
