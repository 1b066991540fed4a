import { expect } from 'chai';
import { Secret } from '@hafence/core';
import { IpmiClient, type IpmiBmc } from '@hafence/power-ipmi';
import { SimBmc } from '@hafence/power-ipmi/sim';
import { TestClock } from '@hafence/testkit';
import { SIM_USERS } from './helpers/sim-fixture.js';

const SYNC_MS = 30_000;

const bmcOf = (sim: SimBmc, port = sim.port): IpmiBmc => ({
  host: `sim-${port}`,
  address: '127.0.0.1',
  port,
  username: 'admin',
  password: new Secret('sim-secret-1'),
  cipherSuites: [17],
});

/**
 * Issue 13 attacks on sessions kept across the power sync (idle 50 s, LRU cap): BMC restarts between reads, a BMC
 * that expires sessions at 20 s, a BMC answering in 4 s, a cap of 2 with 10 BMCs. A read must never report a wrong
 * power state, never outlive its deadline, and no session may be left open at a BMC beyond the cap.
 */
describe('break: IPMI sessions kept across the power sync (virtual time, SimBmc over UDP)', function () {
  this.timeout(60_000);
  let clock: TestClock;
  let sims: SimBmc[] = [];
  let client: IpmiClient;

  beforeEach(() => {
    clock = new TestClock();
    sims = [];
  });
  afterEach(async () => {
    // Close Session to a BMC that forgot it goes unanswered: let the virtual timers run meanwhile.
    const closing = clock.track(client.close());
    await clock.advance(10_000);
    await closing;
    await Promise.all(sims.map((s) => s.close()));
  });

  /** Reads `bmc` with the timers advanced by 5 s; the result, or the error's name. */
  async function read(bmc: IpmiBmc): Promise<'ON' | 'OFF' | string> {
    const p = clock.track(client.chassisStatus(bmc)).then(
      (s) => (s.powerOn ? 'ON' : 'OFF'),
      (e: Error) => e.name,
    );
    await clock.advance(5_000);
    return p;
  }

  it('cap 2, 10 BMCs read together every sync, power flipped at random: every read right, ≤ 2 sessions after', async () => {
    sims = await Promise.all(Array.from({ length: 10 }, () => SimBmc.start({ users: SIM_USERS, power: 'ON', clock })));
    client = new IpmiClient({ clock, session: { maxSessions: 2 } });
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 >= 0.5;
    for (let round = 0; round < 6; round++) {
      const want = sims.map((s) => (s.chassis.power = rnd() ? 'ON' : 'OFF'));
      const all = Promise.all(
        sims.map((s) =>
          clock.track(client.chassisStatus(bmcOf(s))).then(
            (r) => (r.powerOn ? 'ON' : 'OFF'),
            (e: Error) => e.name,
          ),
        ),
      );
      await clock.advance(5_000);
      expect(await all, `round ${round}`).to.deep.equal(want);
      await clock.advance(1_000);
      expect(client.openSessions, `client sessions after round ${round}`).to.be.at.most(2);
      expect(
        sims.reduce((n, s) => n + s.sessionCount, 0),
        `sessions open at the BMCs after round ${round}`,
      ).to.be.at.most(2);
      await clock.advance(SYNC_MS - 6_000);
    }
  });

  it('a BMC restarted (same port, new state) between reads: the read is the new state, never the old', async () => {
    let sim = await SimBmc.start({ users: SIM_USERS, power: 'ON', clock });
    sims = [sim];
    const port = sim.port;
    client = new IpmiClient({ clock });
    expect(await read(bmcOf(sim))).to.equal('ON');
    for (const power of ['OFF', 'ON', 'OFF'] as const) {
      await clock.advance(SYNC_MS - 5_000);
      await sim.close();
      sim = await SimBmc.start({ users: SIM_USERS, power, clock, port });
      sims = [sim];
      expect(await read(bmcOf(sim, port)), `after a restart into ${power}`).to.equal(power);
      expect(sim.sessionCount).to.be.at.most(1);
    }
  });

  it('a BMC that forgets sessions after 20 s, read every 30 s: every read right, one session at a time', async () => {
    const sim = await SimBmc.start({ users: SIM_USERS, power: 'ON', clock, sessionTimeoutMs: 20_000 });
    sims = [sim];
    client = new IpmiClient({ clock });
    for (let i = 0; i < 5; i++) {
      sim.chassis.power = i % 2 === 0 ? 'OFF' : 'ON';
      expect(await read(bmcOf(sim)), `read ${i}`).to.equal(sim.chassis.power);
      expect(sim.sessionCount).to.be.at.most(1);
      await clock.advance(SYNC_MS - 5_000);
    }
  });

  it('a BMC answering in 4 s on a kept session: right or a timeout, never wrong; no session leaked at the BMC (found from outside)', async () => {
    const sim = await SimBmc.start({ users: SIM_USERS, power: 'ON', clock });
    sims = [sim];
    client = new IpmiClient({ clock });
    expect(await read(bmcOf(sim))).to.equal('ON');
    sim.faults.slowMs = 4_000;
    const seen: string[] = [];
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      await clock.advance(SYNC_MS - 5_000);
      sim.chassis.power = i % 2 === 0 ? 'OFF' : 'ON';
      const got = await read(bmcOf(sim));
      seen.push(`${got}/${sim.chassis.power}`);
      expect([sim.chassis.power, 'TimeoutError'], `read ${i}`).to.include(got);
      await clock.advance(5_000);
      counts.push(sim.sessionCount);
    }
    // The BMC recovers: the next sync read must be right (its session table is not left full).
    sim.faults.slowMs = 0;
    await clock.advance(SYNC_MS - 10_000);
    const recovered = await read(bmcOf(sim));
    seen.push(`after recovery ${recovered}/${sim.chassis.power} (${sim.sessionCount} sessions)`);
    process.stderr.write(
      `      [4 s BMC reads (got/actual): ${seen.join(', ')}; sessions at the BMC: ${counts.join(', ')}]\n`,
    );
    expect(recovered, 'first read once the BMC answers at once again').to.equal(sim.chassis.power);
    expect(counts, 'sessions open at the BMC after each read').to.deep.equal(counts.map(() => 1));
  });
});
