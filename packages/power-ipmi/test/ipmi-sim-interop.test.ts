import { expect } from 'chai';
import { AuthError, ProtocolError, Secret } from '@hafence/core';
import { IpmiClient, IpmiPowerDriver } from '@hafence/power-ipmi';
import { describePowerDriverConformance } from '@hafence/testkit/mocha';
import { startIpmiSims, type IpmiSims } from './helpers/tools.js';

const PORT = 9200;
const PASSWORD = 'ipmisim-pw-7';

describePowerDriverConformance(
  'IpmiPowerDriver vs OpenIPMI ipmi_sim (suite 17 refused → 3)',
  async () => {
    const sims = await startIpmiSims(1, PORT, 'admin', PASSWORD);
    const driver = new IpmiPowerDriver({ retransmit: { initialMs: 100, maxMs: 400 } });
    // Default options: 17 first, then the fallback to 3 because ipmi_sim refuses 17.
    const target = {
      host: 'ipmisim',
      address: '127.0.0.1',
      port: PORT,
      username: 'admin',
      password: new Secret(PASSWORD),
    };
    return {
      driver,
      target,
      readPower: () => sims.readPower(PORT),
      setPower: (p) => sims.setPower(PORT, p),
      wrongPasswordTarget: { ...target, password: new Secret('wrong-pw') },
      unreachableTarget: { ...target, host: 'closed', port: 9297 },
      close: async () => {
        await driver.close();
        await sims.stop();
      },
    };
  },
  { settleMs: 3000 },
);

describe('IpmiClient vs OpenIPMI ipmi_sim: every command it supports', function () {
  this.timeout(30000);
  let sims: IpmiSims;
  const client = new IpmiClient({ retransmit: { initialMs: 100, maxMs: 400 } });
  const bmc = (extra: object = {}) => ({
    address: '127.0.0.1',
    port: PORT + 1,
    username: 'admin',
    password: new Secret(PASSWORD),
    cipherSuites: [3],
    ...extra,
  });

  before(async () => {
    sims = await startIpmiSims(1, PORT + 1, 'admin', PASSWORD);
  });
  after(async () => {
    await client.close();
    await sims?.stop();
  });

  it('presence ping, device id, chassis status, control and identify with suite 3', async () => {
    expect((await client.ping(bmc(), { timeoutMs: 2000 })).ipmiSupported).to.equal(true);
    expect((await client.deviceId(bmc())).ipmiVersion).to.equal('2.0');
    await sims.setPower(PORT + 1, 'OFF');
    expect((await client.chassisStatus(bmc())).powerOn).to.equal(false);
    await client.chassisControl(bmc(), 'up');
    expect(await sims.readPower(PORT + 1)).to.equal('ON');
    await client.chassisControl(bmc(), 'hardReset');
    await client.chassisControl(bmc(), 'softShutdown');
    expect(await sims.readPower(PORT + 1)).to.equal('OFF');
    await client.chassisControl(bmc(), 'up');
    await client.chassisControl(bmc(), 'down');
    expect(await sims.readPower(PORT + 1)).to.equal('OFF');
    await client.chassisIdentify(bmc(), 2); // ipmi_sim adds junk bytes to this reply
    expect(client.openSessions).to.equal(1);
  });

  it('only suite 17 → no common cipher suite (ProtocolError)', async () => {
    const err = await client.chassisStatus(bmc({ cipherSuites: [17] }), { timeoutMs: 3000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ProtocolError);
  });

  it('a wrong password is an AuthError quickly (no retransmission wait)', async () => {
    const started = Date.now();
    const err = await client.chassisStatus(bmc({ password: new Secret('nope') })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(AuthError);
    expect(Date.now() - started).to.be.lessThan(2000);
  });

  it('the operator account can power the chassis', async () => {
    await client.chassisControl(bmc({ username: 'oper', privilege: 3 }), 'up');
    expect(await sims.readPower(PORT + 1)).to.equal('ON');
  });
});
