import { expect } from 'chai';
import { ConfigError, Secret } from '@hafence/core';
import { IpmiClient, type IpmiBmc } from '@hafence/power-ipmi';
import { SimBmc } from '@hafence/power-ipmi/sim';
import { TestClock } from '@hafence/testkit';
import { SIM_USERS } from './helpers/sim-fixture.js';

/** Datagrams of a first read: capabilities, Open Session, RAKP 1, RAKP 3, Set Session Privilege, status. */
const LOGIN_AND_READ = 6;
/** The default power sync interval (docs/behaviour.md#power). */
const SYNC_MS = 30_000;

const bmcOf = (sim: SimBmc, extra: Partial<IpmiBmc> = {}): IpmiBmc => ({
  host: `sim-${sim.port}`,
  address: '127.0.0.1',
  port: sim.port,
  username: 'admin',
  password: new Secret('sim-secret-1'),
  cipherSuites: [17],
  ...extra,
});

describe('IpmiClient session reuse at default settings (virtual time, SimBmc over UDP)', function () {
  this.timeout(20000);
  let clock: TestClock;
  let sims: SimBmc[];
  let client: IpmiClient;

  beforeEach(async () => {
    clock = new TestClock();
    // The BMCs expire idle sessions on the same virtual clock (after 60 s, the IPMI default).
    sims = await Promise.all([1, 2, 3].map(() => SimBmc.start({ users: SIM_USERS, power: 'ON', clock })));
    client = new IpmiClient({ clock }); // every session setting at its default
  });
  afterEach(async () => {
    await client.close();
    await Promise.all(sims.map((s) => s.close()));
  });

  /** One status read whose retransmission timers run on the virtual clock, which follows real time meanwhile. */
  async function read(sim: SimBmc): Promise<boolean> {
    const p = clock.track(client.chassisStatus(bmcOf(sim)));
    await clock.advance(5_000);
    return (await p).powerOn;
  }

  it('reads 30 s apart cost one request each after the first login', async () => {
    const sim = sims[0]!;
    expect(await read(sim)).to.equal(true);
    expect(sim.stats.received).to.equal(LOGIN_AND_READ);
    for (let i = 1; i <= 5; i++) {
      await clock.advance(SYNC_MS - 5_000);
      expect(await read(sim)).to.equal(true);
      expect(sim.stats.received).to.equal(LOGIN_AND_READ + i);
    }
    expect(sim.sessionCount).to.equal(1);
    expect(client.openSessions).to.equal(1);
  });

  it('reads 33 s apart (the sync interval plus its jitter) still reuse the session', async () => {
    const sim = sims[0]!;
    await read(sim);
    await clock.advance(33_000 - 5_000);
    await read(sim);
    expect(sim.stats.received).to.equal(LOGIN_AND_READ + 1);
  });

  it('a session the BMC dropped is re-established transparently and the read is right', async () => {
    const sim = sims[0]!;
    expect(await read(sim)).to.equal(true);
    await clock.advance(SYNC_MS);
    sim.engine.dropSessions(); // a BMC reboot, or its own timeout
    sim.chassis.power = 'OFF';
    const before = sim.stats.received;
    expect(await read(sim)).to.equal(false);
    expect(sim.sessionCount).to.equal(1);
    // The probe in the dropped session (unanswered, resent for half the call's 5 s), then a new login and the read.
    const spent = sim.stats.received - before;
    expect(spent).to.be.within(1 + LOGIN_AND_READ, 5 + LOGIN_AND_READ);
    await clock.advance(SYNC_MS);
    expect(await read(sim)).to.equal(false);
    expect(sim.stats.received - before).to.equal(spent + 1);
  });

  it('a BMC slower than probeMs is not taken for one that dropped the session (no new login, no session leaked)', async () => {
    const sim = sims[0]!;
    await read(sim); // answered at once: the session's reply time is known
    for (const slowMs of [1_500, 2_400]) {
      sim.faults.slowMs = slowMs; // slower than the 1 s probe: the BMC got busy
      await clock.advance(SYNC_MS - 5_000);
      expect(await read(sim)).to.equal(true);
    }
    sim.faults.slowMs = 0; // (close() in afterEach runs without the virtual clock moving)
    expect(sim.sessionCount).to.equal(1);
    expect(client.openSessions).to.equal(1);
  });

  it('a session idle past the BMC timeout is never reused: the BMC expired it, the client logs in again', async () => {
    const sim = sims[0]!;
    await read(sim);
    await clock.advance(61_000);
    const before = sim.stats.received;
    expect(await read(sim)).to.equal(true);
    // Idle past idleMs (50 s): no probe into the dead session, one Close Session attempt, a login, the read.
    expect(sim.stats.received - before).to.be.within(LOGIN_AND_READ, LOGIN_AND_READ + 2);
    expect(sim.sessionCount).to.equal(1);
  });

  it('honours the session cap: the least recently used idle session is closed at the BMC', async () => {
    await client.close();
    client = new IpmiClient({ clock, session: { maxSessions: 2 } });
    const [a, b, c] = sims as [SimBmc, SimBmc, SimBmc];
    await read(a);
    await read(b);
    expect(client.openSessions).to.equal(2);
    await read(a); // b is now the least recently used
    await read(c);
    await clock.advance(1_000); // the eviction's Close Session is answered
    expect(client.openSessions).to.equal(2);
    expect([a.sessionCount, b.sessionCount, c.sessionCount]).to.deep.equal([1, 0, 1]);
    // Concurrent reads of the three never leave more than two sessions open once they finished.
    const all = Promise.all(sims.map((s) => clock.track(client.chassisStatus(bmcOf(s)))));
    await clock.advance(5_000);
    expect((await all).map((s) => s.powerOn)).to.deep.equal([true, true, true]);
    await clock.advance(1_000);
    expect(client.openSessions).to.be.at.most(2);
    expect(a.sessionCount + b.sessionCount + c.sessionCount).to.be.at.most(2);
  });

  it('closes sessions left idle past their limit when it opens another (an abandoned BMC holds nothing)', async () => {
    const [a, b] = sims as [SimBmc, SimBmc];
    await read(a);
    await clock.advance(55_000);
    await read(b);
    await clock.advance(1_000);
    expect(client.openSessions).to.equal(1);
    expect(a.sessionCount).to.equal(0);
  });

  it('a per-BMC idle limit (sessionIdleMs) below a short BMC timeout logs in again instead of probing', async () => {
    const sim = sims[0]!;
    const short = bmcOf(sim, { sessionIdleMs: 25_000 });
    const readShort = async () => {
      const p = clock.track(client.chassisStatus(short));
      await clock.advance(5_000);
      return p;
    };
    await readShort();
    await clock.advance(SYNC_MS - 5_000);
    const before = sim.stats.received;
    await readShort();
    expect(sim.stats.received - before).to.equal(1 + LOGIN_AND_READ); // Close Session, login, read
  });

  it('refuses a session setting that is not a positive integer (ConfigError naming it)', () => {
    for (const session of [{ maxSessions: 0 }, { idleMs: -1 }, { probeMs: 1.5 }]) {
      let err: unknown;
      try {
        new IpmiClient({ session });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).issues[0]?.path).to.equal(`session.${Object.keys(session)[0]}`);
    }
  });
});
