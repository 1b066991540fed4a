import { expect } from 'chai';
import { Secret, TimeoutError } from '@hafence/core';
import { IpmiClient, UdpEndpoint } from '@hafence/power-ipmi';
import { SimBmc } from '@hafence/power-ipmi/sim';
import { TestClock, flushMicrotasks } from '@hafence/testkit';
import { SIM_USERS } from './helpers/sim-fixture.js';

/** An endpoint that records sends (with the virtual time) and never delivers anything. */
class BlackHole extends UdpEndpoint {
  readonly sentAt: number[] = [];
  constructor(private readonly clock: TestClock) {
    super();
  }
  override async send(): Promise<void> {
    this.sentAt.push(this.clock.now());
  }
}

describe('retransmission', function () {
  this.timeout(10000);

  it('resends with exponential backoff (250, 500, 1000, 1000 … ms) and stops at the deadline', async () => {
    const clock = new TestClock(0);
    const endpoint = new BlackHole(clock);
    const client = new IpmiClient({ clock, endpoint });
    const bmc = { address: '127.0.0.1', port: 9295, username: 'admin', password: new Secret('x') };
    const result = client.chassisStatus(bmc, { timeoutMs: 3000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    await flushMicrotasks();
    await clock.advance(5000);
    const err = await result;
    expect(err).to.be.instanceOf(TimeoutError);
    expect(endpoint.sentAt).to.deep.equal([0, 250, 750, 1750, 2750]);
  });

  it('a lost request or reply is recovered by a resend inside the deadline', async () => {
    const bmc = await SimBmc.start({ users: SIM_USERS, power: 'ON' });
    const client = new IpmiClient({ retransmit: { initialMs: 40, maxMs: 160 } });
    try {
      let n = 0;
      const handle = bmc.engine.handle.bind(bmc.engine);
      bmc.engine.handle = (d: Buffer) => {
        const k = n++ % 6;
        if (k === 1) return []; // the request is lost
        const replies = handle(d);
        return k === 4 ? [] : replies; // the request arrived, its reply is lost
      };
      const t = { address: '127.0.0.1', port: bmc.port, username: 'admin', password: new Secret('sim-secret-1') };
      for (let i = 0; i < 10; i++) expect((await client.chassisStatus(t, { timeoutMs: 2000 })).powerOn).to.equal(true);
      expect(n).to.be.greaterThan(14);
    } finally {
      await client.close();
      await bmc.close();
    }
  });
});
