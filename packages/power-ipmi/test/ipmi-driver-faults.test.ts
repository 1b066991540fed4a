import { expect } from 'chai';
import { AuthError, DriverError, ProtocolError, Secret, TimeoutError } from '@hafence/core';
import { IpmiClient, IpmiPowerDriver } from '@hafence/power-ipmi';
import { SimBmc } from '@hafence/power-ipmi/sim';
import { SIM_USERS, simTarget } from './helpers/sim-fixture.js';

const call = (ms = 3000) => ({ signal: AbortSignal.timeout(ms + 500), timeoutMs: ms });
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('IpmiPowerDriver against a misbehaving SimBmc', function () {
  this.timeout(15000);
  let bmc: SimBmc;
  let driver: IpmiPowerDriver;

  beforeEach(async () => {
    bmc = await SimBmc.start({ users: SIM_USERS, power: 'ON' });
    driver = new IpmiPowerDriver({ retransmit: { initialMs: 50, maxMs: 200 }, session: { probeMs: 300 } });
  });
  afterEach(async () => {
    await driver.close();
    await bmc.close();
  });

  it('reuses one session for many calls and closes it on shutdown', async () => {
    for (let i = 0; i < 20; i++) expect(await driver.status(simTarget(bmc, 17), call())).to.equal('ON');
    expect(bmc.sessionCount).to.equal(1);
    await driver.close();
    expect(bmc.sessionCount).to.equal(0);
  });

  it('rejects a BMC whose RAKP 2 HMAC is wrong (it does not know the password) with AuthError', async () => {
    bmc.faults.wrongKey = 'some-other-password';
    for (const suite of [17, 3]) {
      const err = await failure(driver.status(simTarget(bmc, suite), call()));
      expect(err).to.be.instanceOf(AuthError);
      expect((err as Error).message).to.match(/RAKP 2/);
    }
  });

  it('two accounts on one BMC do not disturb each other (wrong password in between)', async () => {
    const good = simTarget(bmc, 17);
    const bad = { ...good, password: new Secret('wrong-one') };
    const oper = { ...simTarget(bmc, 3, { privilege: 'operator' }), username: 'oper' };
    for (let i = 0; i < 3; i++) {
      expect(await driver.status(good, call())).to.equal('ON');
      expect(await failure(driver.status(bad, call()))).to.be.instanceOf(AuthError);
      expect(await driver.status(oper, call())).to.equal('ON');
    }
    const all = await Promise.all([good, oper, good, oper].map((t) => driver.status(t, call())));
    expect(all).to.deep.equal(['ON', 'ON', 'ON', 'ON']);
  });

  it('an unknown user is an AuthError', async () => {
    const err = await failure(driver.status({ ...simTarget(bmc, 17), username: 'nobody' }, call()));
    expect(err).to.be.instanceOf(AuthError);
  });

  it('a user without operator privilege cannot power off (AuthError), but can read status', async () => {
    const viewer = { ...simTarget(bmc, 17, { privilege: 2 }), username: 'viewer' };
    expect(await driver.status(viewer, call())).to.equal('ON');
    expect(await failure(driver.control(viewer, 'off', call()))).to.be.instanceOf(AuthError);
    expect(bmc.chassis.power).to.equal('ON');
  });

  it('re-establishes the session when the BMC drops it', async () => {
    const t = simTarget(bmc, 17);
    expect(await driver.status(t, call())).to.equal('ON');
    bmc.engine.dropSessions();
    expect(await driver.status(t, call())).to.equal('ON');
    bmc.faults.dropSessions = true;
    for (let i = 0; i < 3; i++) expect(await driver.status(t, call())).to.equal('ON');
  });

  it('closes and replaces a session that sat idle longer than idleMs', async () => {
    const idle = new IpmiPowerDriver({ session: { idleMs: 50 } });
    try {
      const t = simTarget(bmc, 17);
      expect(await idle.status(t, call())).to.equal('ON');
      const first = [...bmc.engine.sessions.keys()];
      await new Promise((r) => setTimeout(r, 120));
      expect(await idle.status(t, call())).to.equal('ON');
      const second = [...bmc.engine.sessions.keys()];
      expect(second).to.have.length(1);
      expect(second[0]).to.not.equal(first[0]);
    } finally {
      await idle.close();
    }
  });

  it('a BMC that is down times out within the configured time', async () => {
    bmc.faults.down = true;
    const started = Date.now();
    const err = await failure(driver.status(simTarget(bmc, 17), call(700)));
    expect(err).to.be.instanceOf(TimeoutError);
    expect(Date.now() - started).to.be.within(650, 1500);
  });

  it('a closed port times out within the configured time', async () => {
    const started = Date.now();
    const err = await failure(driver.status({ ...simTarget(bmc, 17), port: 9298 }, call(600)));
    expect(err).to.be.instanceOf(TimeoutError);
    expect(Date.now() - started).to.be.lessThan(1500);
  });

  it('a slow BMC is waited for, within the deadline', async () => {
    bmc.faults.slowMs = 120;
    expect(await driver.status(simTarget(bmc, 3), call())).to.equal('ON');
  });

  it('a command retransmitted because the answer was late is carried out once (the BMC matches the rqSeq)', async () => {
    bmc.faults.slowMs = 700; // past the 250 ms and 500 ms retransmits
    const before = bmc.chassis.log.length;
    await driver.control(simTarget(bmc, 17), 'cycle', call(5000));
    expect(bmc.chassis.log.slice(before)).to.deep.equal(['cycle']);
  });

  it('corrupt replies are dropped and end in a typed error, never a crash', async () => {
    bmc.faults.corruptReplies = true;
    const err = await failure(driver.status(simTarget(bmc, 17), call(500)));
    expect(err).to.satisfy(
      (e: unknown) => e instanceof TimeoutError || e instanceof AuthError || e instanceof ProtocolError,
    );
  });

  it('randomly mutated replies end in success or a typed error within the deadline, never a hang', async () => {
    let state = 12345;
    const rand = () => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state / 0x7fffffff;
    };
    const handle = bmc.engine.handle.bind(bmc.engine);
    bmc.engine.handle = (d: Buffer) =>
      handle(d).map((r) => {
        if (rand() > 0.3) return r;
        const out = Buffer.from(r);
        for (let i = 0, n = 1 + Math.floor(rand() * 4); i < n; i++) {
          out[Math.floor(rand() * out.length)] = Math.floor(rand() * 256);
        }
        return rand() < 0.2 ? out.subarray(0, Math.floor(rand() * out.length)) : out;
      });
    const outcomes = { ok: 0, typed: 0 };
    for (let i = 0; i < 30; i++) {
      const started = Date.now();
      const err = await failure(driver.status(simTarget(bmc, i % 2 ? 17 : 3), call(250)));
      expect(Date.now() - started).to.be.lessThan(1500);
      if (err === undefined) outcomes.ok++;
      else {
        expect(err).to.satisfy(
          (e: unknown) => e instanceof TimeoutError || e instanceof AuthError || e instanceof ProtocolError,
          String(err),
        );
        outcomes.typed++;
      }
    }
    expect(outcomes.ok).to.be.greaterThan(0);
  });

  it('falls back from suite 17 to 3 only when the BMC refuses 17', async () => {
    const only3 = await SimBmc.start({ users: SIM_USERS, cipherSuites: [3], power: 'OFF' });
    try {
      expect(await driver.status(simTarget(only3, 17, { fallbackCipherSuite: 3 }), call())).to.equal('OFF');
      const err = await failure(driver.status({ ...simTarget(only3, 17), username: 'oper' }, call()));
      expect(err).to.be.instanceOf(ProtocolError);
      expect((err as Error).message).to.match(/no common cipher suite/);
    } finally {
      await only3.close();
    }
  });

  it('refuses cipher suite 0 unless allowCipher0 is set', async () => {
    const err = await failure(driver.status(simTarget(bmc, 0), call()));
    expect(err).to.be.instanceOf(DriverError);
    expect(bmc.stats.received).to.equal(0);
  });

  it('an abort in the middle of a call rejects with the abort reason', async () => {
    bmc.faults.slowMs = 1000;
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(new Error('operator cancelled')), 100);
    const err = await failure(driver.status(simTarget(bmc, 17), { signal: ctl.signal, timeoutMs: 5000 }));
    expect((err as Error).message).to.equal('operator cancelled');
  });

  it('serialises calls per BMC and runs BMCs in parallel', async () => {
    const others = await Promise.all([1, 2, 3].map(() => SimBmc.start({ users: SIM_USERS, power: 'OFF' })));
    try {
      const all = [bmc, ...others].flatMap((b) =>
        Array.from({ length: 10 }, () => driver.status(simTarget(b, 17), call())),
      );
      const res = await Promise.all(all);
      expect(res.filter((r) => r === 'ON')).to.have.length(10);
      expect(res.filter((r) => r === 'OFF')).to.have.length(30);
      for (const b of [bmc, ...others]) expect(b.sessionCount).to.equal(1);
    } finally {
      await Promise.all(others.map((b) => b.close()));
    }
  });

  it('answers RMCP presence pings and reads the device id', async () => {
    const client = new IpmiClient();
    try {
      const bmcRef = { address: '127.0.0.1', port: bmc.port, username: 'admin', password: new Secret('sim-secret-1') };
      expect((await client.ping(bmcRef, { timeoutMs: 1000 })).ipmiSupported).to.equal(true);
      expect((await client.deviceId(bmcRef)).ipmiVersion).to.equal('2.0');
    } finally {
      await client.close();
    }
  });
});
