import { expect } from 'chai';
import { AuthError, ProtocolError, Secret } from '@hafence/core';
import { IpmiClient, type IpmiBmc } from '@hafence/power-ipmi';
import { startFakeBmc } from './helpers/tools.js';

// pyghmi's fakebmc binds every interface; we only ever send it loopback traffic.
const PORT = 9210;

describe('IpmiClient vs pyghmi fakebmc (suite 3, admin/password)', function () {
  this.timeout(30000);
  let fake: Awaited<ReturnType<typeof startFakeBmc>>;
  const client = new IpmiClient({ retransmit: { initialMs: 100, maxMs: 300 } });
  const bmc = (extra: Partial<IpmiBmc> = {}): IpmiBmc => ({
    address: '127.0.0.1',
    port: PORT,
    username: 'admin',
    password: new Secret('password'),
    cipherSuites: [3],
    ...extra,
  });

  before(async () => {
    fake = await startFakeBmc(PORT);
    let lastErr: unknown;
    for (let i = 0; i < 60; i++) {
      try {
        await client.deviceId(bmc(), { timeoutMs: 300 });
        return;
      } catch (err) {
        lastErr = err;
      }
    }
    throw new Error(`fakebmc did not come up: ${String(lastErr)}`);
  });
  after(async () => {
    await client.close();
    await fake?.stop();
  });

  it('Get Device ID', async () => {
    expect((await client.deviceId(bmc())).ipmiVersion).to.equal('2.0');
  });

  it('Get Chassis Status and Chassis Control up, down, hard reset, soft shutdown', async () => {
    await client.chassisControl(bmc(), 'up');
    expect((await client.chassisStatus(bmc())).powerOn).to.equal(true);
    await client.chassisControl(bmc(), 'hardReset');
    await client.chassisControl(bmc(), 'softShutdown');
    await client.chassisControl(bmc(), 'down');
    expect((await client.chassisStatus(bmc())).powerOn).to.equal(false);
  });

  it('a command fakebmc lacks (power cycle) is a typed ProtocolError with the completion code', async () => {
    const err = await client.chassisControl(bmc(), 'cycle').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ProtocolError);
    expect((err as Error).message).to.match(/completion code 0x/);
  });

  it('a wrong password is an AuthError', async () => {
    const err = await client.chassisStatus(bmc({ password: new Secret('wrong') })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(AuthError);
  });

  // Last: fakebmc answers suite 17 with suite 3's algorithms (a downgrade); we must refuse.
  it('a BMC that answers suite 17 with other algorithms is rejected, not followed', async () => {
    const err = await client.chassisStatus(bmc({ cipherSuites: [17] }), { timeoutMs: 2000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ProtocolError);
    expect((err as Error).message).to.match(/other algorithms/);
  });
});
