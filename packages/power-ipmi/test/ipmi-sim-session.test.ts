import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { expect } from 'chai';
import { Secret } from '@hafence/core';
import { IpmiClient, type IpmiBmc } from '@hafence/power-ipmi';
import { startIpmiSims, type IpmiSims } from './helpers/tools.js';

const FIRST_PORT = 9220;
const PASSWORD = 'ipmisim-pw-8';
/** Requests of a login and a read with suite 3: capabilities, Open Session, RAKP 1, RAKP 3, privilege, status. */
const LOGIN_AND_READ = 6;

/** A UDP relay in front of one ipmi_sim that counts the datagrams the client sends it. */
class CountingRelay {
  /** Datagrams from the client to the BMC. */
  requests = 0;
  #client?: RemoteInfo;

  private constructor(
    private readonly front: Socket,
    private readonly back: Socket,
    bmcPort: number,
  ) {
    front.on('message', (msg, from) => {
      this.requests++;
      this.#client = from;
      back.send(msg, bmcPort, '127.0.0.1');
    });
    back.on('message', (msg) => {
      if (this.#client) front.send(msg, this.#client.port, this.#client.address);
    });
  }

  static async start(bmcPort: number): Promise<CountingRelay> {
    const bind = async () => {
      const s = createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
      return s;
    };
    return new CountingRelay(await bind(), await bind(), bmcPort);
  }

  get port(): number {
    return this.front.address().port;
  }

  async close(): Promise<void> {
    await Promise.all([this.front, this.back].map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('IpmiClient sessions vs OpenIPMI ipmi_sim (datagrams counted at the BMC)', function () {
  this.timeout(90_000);
  let sims: IpmiSims;
  let relays: CountingRelay[];
  let client: IpmiClient;
  const bmc = (i: number, extra: Partial<IpmiBmc> = {}): IpmiBmc => ({
    host: `ipmisim-${i}`,
    address: '127.0.0.1',
    port: relays[i]!.port,
    username: 'admin',
    password: new Secret(PASSWORD),
    cipherSuites: [3], // ipmi_sim refuses 17: asking it first would add one Open Session per login
    ...extra,
  });

  before(async () => {
    sims = await startIpmiSims(2, FIRST_PORT, 'admin', PASSWORD);
    relays = await Promise.all([FIRST_PORT, FIRST_PORT + 1].map((p) => CountingRelay.start(p)));
  });
  after(async () => {
    await Promise.all(relays.map((r) => r.close()));
    await sims?.stop();
  });
  afterEach(async () => client?.close());

  it('at default settings, reads that follow each other cost one request each after the login', async () => {
    client = new IpmiClient();
    await sims.setPower(FIRST_PORT, 'ON');
    const r = relays[0]!;
    const start = r.requests;
    expect((await client.chassisStatus(bmc(0))).powerOn).to.equal(true);
    expect(r.requests - start).to.equal(LOGIN_AND_READ);
    for (let i = 1; i <= 4; i++) {
      await sleep(2_000);
      expect((await client.chassisStatus(bmc(0))).powerOn).to.equal(true);
      expect(r.requests - start).to.equal(LOGIN_AND_READ + i);
    }
  });

  it('a session ipmi_sim expired (its timeout is 30 s) is re-established and the read is right', async () => {
    // A client told to keep sessions 60 s: ipmi_sim forgets them after 30 s idle and answers nothing in them.
    client = new IpmiClient({ retransmit: { initialMs: 100, maxMs: 400 } });
    const r = relays[0]!;
    expect((await client.chassisStatus(bmc(0, { sessionIdleMs: 60_000 }))).powerOn).to.equal(true);
    await sleep(32_000);
    await sims.setPower(FIRST_PORT, 'OFF');
    const before = r.requests;
    expect((await client.chassisStatus(bmc(0, { sessionIdleMs: 60_000 }))).powerOn).to.equal(false);
    const spent = r.requests - before;
    // Probes into the dead session (resent for half the call's 5 s, every 400 ms at most), then a login and the read.
    expect(spent).to.be.within(LOGIN_AND_READ + 1, LOGIN_AND_READ + 9);
    expect((await client.chassisStatus(bmc(0, { sessionIdleMs: 60_000 }))).powerOn).to.equal(false);
    expect(r.requests - before).to.equal(spent + 1);
    await sims.setPower(FIRST_PORT, 'ON');
  });

  it('honours the session cap: the least recently used session is closed at its BMC', async () => {
    client = new IpmiClient({ session: { maxSessions: 1 } });
    const [a] = relays as [CountingRelay, CountingRelay];
    await client.chassisStatus(bmc(0));
    const aAfterRead = a.requests;
    await client.chassisStatus(bmc(1));
    await sleep(300); // the eviction's Close Session
    expect(client.openSessions).to.equal(1);
    expect(a.requests - aAfterRead).to.equal(1); // Close Session sent to the evicted BMC
    const aBefore = a.requests;
    await client.chassisStatus(bmc(0)); // its session is gone: a login again
    expect(a.requests - aBefore).to.equal(LOGIN_AND_READ);
    expect(client.openSessions).to.equal(1);
  });
});
