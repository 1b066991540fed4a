import { expect } from 'chai';
import { Secret } from '@hafence/core';
import type { RedfishSim } from '@hafence/sim';
import type { RedfishPowerDriver } from '@hafence/power-redfish';
import { CaptureLogger, SIM_PASSWORD, simDriver, simTarget, startSim } from './helpers/sim-fixture.js';

const call = (ms = 3000) => ({ signal: AbortSignal.timeout(ms + 2000), timeoutMs: ms });
const failure = (p: Promise<unknown>): Promise<{ code?: string; message: string; stack?: string }> =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as { code?: string; message: string },
  );

describe('RedfishPowerDriver against RedfishSim faults', function () {
  this.timeout(20_000);
  let sim: RedfishSim;
  let driver: RedfishPowerDriver;
  const logger = new CaptureLogger();

  beforeEach(async () => {
    sim = await startSim('generic');
    driver = simDriver(sim, { logger });
  });
  afterEach(async () => {
    await driver.close();
    await sim.close();
  });
  after(() => {
    expect(logger.text()).to.not.include(SIM_PASSWORD);
  });

  it('down: an UnreachableError (exit 4) well within the timeout', async () => {
    expect(await driver.status(simTarget(sim), call())).to.equal('ON');
    sim.setFault({ kind: 'down' });
    const started = Date.now();
    const err = await failure(driver.status(simTarget(sim), call(1500)));
    expect(err.code).to.be.oneOf(['HAF1003', 'HAF1002']);
    expect(Date.now() - started).to.be.lessThan(1500 + 500);
  });

  it('slow beyond the timeout: a TimeoutError at the timeout; slow within it: the answer', async () => {
    sim.setFault({ kind: 'slow', delayMs: 3000 });
    const started = Date.now();
    const err = await failure(driver.status(simTarget(sim), call(600)));
    expect(err.code).to.equal('HAF1002');
    expect(Date.now() - started).to.be.within(550, 1500);
    sim.setFault({ kind: 'slow', delayMs: 50 });
    expect(await driver.status(simTarget(sim), call(3000))).to.equal('ON');
  });

  it('wrong password: an AuthError without the password, also for a session the BMC stopped accepting', async () => {
    const target = simTarget(sim);
    expect(await driver.status(target, call())).to.equal('ON');
    sim.setFault({ kind: 'wrong-password' });
    const err = await failure(driver.status(target, call()));
    expect(err.code).to.equal('HAF1001');
    expect(err.message + String(err.stack)).to.not.include(SIM_PASSWORD);
    sim.setFault(null);
    // within the back-off after the refusal the driver does not try again (account lockout)…
    const before = sim.stats.requests;
    expect((await failure(driver.status(target, call()))).code).to.equal('HAF1001');
    expect(sim.stats.requests).to.equal(before);
    // …and logs in again once it is over and the BMC takes the password again
    const quick = simDriver(sim, { logger, authBackoffMs: 200 });
    try {
      sim.setFault({ kind: 'wrong-password' });
      expect((await failure(quick.status(target, call()))).code).to.equal('HAF1001');
      sim.setFault(null);
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(await quick.status(target, call())).to.equal('ON');
    } finally {
      await quick.close();
    }
  });

  it('a refused password is not tried again during the back-off: 10 calls, 1 login; a changed password is tried at once', async () => {
    const wrong = { ...simTarget(sim), password: new Secret('not-the-password') };
    const logins = () => sim.stats.requests;
    const before = logins();
    for (let i = 0; i < 10; i++) {
      const err = await failure(driver.status(wrong, call()));
      expect(err.code).to.equal('HAF1001');
      expect(err.message + String(err.stack)).to.not.include('not-the-password');
    }
    // the service root and one login: nothing after the first refusal
    expect(logins() - before).to.equal(2);
    expect(await driver.status(simTarget(sim), call())).to.equal('ON');
  });

  it('200 concurrent calls never hold more than one session at the simulator (maxSessions 16)', async () => {
    const results = await Promise.all(Array.from({ length: 200 }, () => driver.status(simTarget(sim), call(10_000))));
    expect(new Set(results)).to.deep.equal(new Set(['ON']));
    expect(sim.stats).to.deep.include({ sessionsCreated: 1, sessionsPeak: 1 });
  });

  it('busy (503 under load): retried, then a ProtocolError; fine again when the BMC recovers', async () => {
    sim.setFault({ kind: 'busy-503' });
    const before = sim.stats.requests;
    const err = await failure(driver.status(simTarget(sim), call()));
    expect(err.code).to.equal('HAF1004');
    expect(sim.stats.requests - before).to.equal(3); // the first try and 2 retries
    sim.setFault(null);
    expect(await driver.status(simTarget(sim), call())).to.equal('ON');
  });

  it('malformed JSON: a ProtocolError, for status and for a reset', async () => {
    expect(await driver.status(simTarget(sim), call())).to.equal('ON');
    sim.setFault({ kind: 'malformed-json' });
    expect((await failure(driver.status(simTarget(sim), call()))).code).to.equal('HAF1004');
    expect((await failure(driver.control(simTarget(sim), 'off', call()))).code).to.equal('HAF1004');
    expect(sim.powerState()).to.equal('On');
  });

  it('a call that gives up during the shared login does not fail the other calls waiting for it', async () => {
    sim.setFault({ kind: 'slow', delayMs: 300 });
    const ctl = new AbortController();
    const reason = new Error('first caller gave up');
    const first = driver.status(simTarget(sim), { signal: ctl.signal, timeoutMs: 10_000 }).catch((e: unknown) => e);
    const second = driver.status(simTarget(sim), call(5000));
    // both read the service root (300 ms), then the first starts the login and the second waits for it
    setTimeout(() => ctl.abort(reason), 450);
    expect(await first).to.equal(reason);
    expect(await second).to.equal('ON');
  });

  it('the caller aborting mid-request rejects at once with its reason', async () => {
    sim.setFault({ kind: 'slow', delayMs: 5000 });
    const ctl = new AbortController();
    const reason = new Error('caller gave up');
    setTimeout(() => ctl.abort(reason), 100);
    const started = Date.now();
    const err = await driver.status(simTarget(sim), { signal: ctl.signal, timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(err).to.equal(reason);
    expect(Date.now() - started).to.be.lessThan(1000);
  });
});
