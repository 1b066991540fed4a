import { Secret, type PowerTarget } from '@hafence/core';
import { IpmiPowerDriver } from '@hafence/power-ipmi';
import { SimBmc } from '@hafence/power-ipmi/sim';
import type { PowerDriverFixture } from '@hafence/testkit/mocha';

/** Users of every SimBmc in these tests. */
export const SIM_USERS = [
  { name: 'admin', password: 'sim-secret-1', privilege: 4 },
  { name: 'oper', password: 'sim-secret-1', privilege: 3 },
  { name: 'viewer', password: 'sim-secret-1', privilege: 2 },
];

/** A target for `bmc` with cipher suite `suite` (no fallback unless given). */
export function simTarget(bmc: SimBmc, suite: number, extra: Record<string, unknown> = {}): PowerTarget {
  return {
    host: `sim-${bmc.port}`,
    address: '127.0.0.1',
    port: bmc.port,
    username: 'admin',
    password: new Secret('sim-secret-1'),
    options: { cipherSuite: suite, fallbackCipherSuite: null, ...extra },
  };
}

/** A conformance fixture: a SimBmc, our driver, a wrong password and a closed port. */
export async function simFixture(suite: number): Promise<PowerDriverFixture> {
  const bmc = await SimBmc.start({ users: SIM_USERS, cycleMs: 100 });
  const driver = new IpmiPowerDriver({ retransmit: { initialMs: 100, maxMs: 400 } });
  const target = simTarget(bmc, suite);
  return {
    driver,
    target,
    readPower: async () => bmc.chassis.power,
    setPower: async (p) => {
      bmc.chassis.power = p;
    },
    wrongPasswordTarget: { ...target, password: new Secret('not-the-password') },
    unreachableTarget: { ...target, host: 'closed-port', port: 9299 },
    close: async () => {
      await driver.close();
      await bmc.close();
    },
  };
}
