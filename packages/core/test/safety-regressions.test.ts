import { expect } from 'chai';
import type { HaEvent, TimerHandle } from '@hafence/core';
import { TestClock, type FakeCluster } from '@hafence/testkit';
import { MIN, alertCodes, cluster, path, released } from './cluster-views.js';

/**
 * Regressions of the second safety round (one `describe` per defect class). Each was
 * seen failing on the code before its fix.
 */

/** A clock whose timers fire 1 ms before their deadline, as Node's timers may. */
class EarlyClock extends TestClock {
  override setTimeout(fn: () => void, ms: number): TimerHandle {
    return super.setTimeout(fn, ms > 1 ? ms - 1 : ms);
  }
}

const commands = (events: readonly HaEvent[], host: string, action: string) =>
  events.filter((e) => e.type === 'power.action' && e.host === host && e.action === action);

/** Eligibility from the power service's cached state, as the KVM provider judges it. */
function eligibilityFromPowerService(c: FakeCluster): void {
  c.provider.isEligible = async (r) =>
    c.power.state(r.ref.id) === 'OFF' ? { ok: false, reason: 'power OFF' } : { ok: true };
}

async function until(c: FakeCluster, done: () => boolean, stepMs = 100, limitMs = 3 * 3_600_000): Promise<void> {
  for (let t = 0; t < limitMs && !done(); t += stepMs) await c.clock.advance(stepMs);
}

describe('safety regressions (round 2)', () => {
  let c: FakeCluster;
  afterEach(async () => c?.close());

  describe('a deadline is never lost (timers that fire early)', () => {
    it('early-timer-suspect: a crashed host leaves SUSPECT although every timer fires 1 ms early', async () => {
      c = await cluster({ clock: new EarlyClock() });
      c.provider.host('h3').crashed = true;
      await c.clock.advance(30 * MIN);
      const p = path(c.events, 'h3');
      expect(p).to.include('CHECKING→RECOVERING');
      expect(c.service.resource({ type: 'host', id: 'h3' }).state).to.equal('AVAILABLE');
      expect(c.service.deadlineViolations()).to.deep.equal([]);
    });

    it('early-timer-degraded: DEGRADED re-checks keep coming with early timers', async () => {
      c = await cluster({ clock: new EarlyClock() });
      c.provider.host('h4').agentDown = true;
      await c.clock.advance(60 * MIN);
      const p = path(c.events, 'h4');
      expect(p).to.include('CHECKING→DEGRADED');
      expect(p.filter((s) => s === 'DEGRADED→SUSPECT').length).to.be.at.least(5);
      expect(c.service.deadlineViolations()).to.deep.equal([]);
    });

    it('early-timer-retry: a failed recovery is retried (RECOVERING retryAt) with early timers', async () => {
      c = await cluster({ clock: new EarlyClock() });
      Object.assign(c.provider.host('h2'), { crashed: true, recover: 'fail' });
      await c.clock.advance(30 * MIN);
      const p = path(c.events, 'h2');
      expect(p).to.include('RECOVERING→RECOVERING');
      expect(p).to.include('RECOVERING→FENCING');
      expect(c.service.deadlineViolations()).to.deep.equal([]);
    });
  });

  describe('proof that needs no command is taken at once', () => {
    it('off-while-held: a host switched off while its recovery is held by the fence budget is released at once, never stopped, never powered on', async () => {
      c = await cluster({ config: { defaults: { maxFencesPerWindow: 1 } } });
      c.provider.host('h1').crashed = true;
      await until(c, () => commands(c.events, 'h1', 'off').length > 0);
      c.provider.host('h2').crashed = true;
      await until(c, () => c.events.some((e) => e.type === 'fencing.halted'));
      await c.clock.advance(MIN);
      expect(c.service.resource({ type: 'host', id: 'h2' }).state).to.equal('RECOVERING');
      c.driver.host('h2').power = 'OFF'; // the operator switches it off
      const t0 = c.clock.now();
      await c.clock.advance(2 * MIN);
      const release = released(c.events, 'h2');
      expect(release.map((e) => (e as { proof: string }).proof)).to.deep.equal(['power-off']);
      expect(release[0]!.t - t0).to.be.at.most(60_000); // one sync interval, not the budget window
      expect(c.service.resource({ type: 'host', id: 'h2' }).state).to.equal('FENCED');
      await c.clock.advance(2 * 60 * MIN);
      expect(commands(c.events, 'h2', 'off')).to.deep.equal([]);
      expect(commands(c.events, 'h2', 'on')).to.deep.equal([]);
      expect(c.driver.host('h2').power).to.equal('OFF');
      expect(alertCodes(c.events, 'h2')).to.include('powered-off-outside');
    });

    it('off-before-recovery: a recovery that reads the host OFF before its stop command releases it and goes FENCED without powering it on', async () => {
      c = await cluster({ config: { powerSyncInterval: '1h' } }); // the sync daemon does not see it first
      eligibilityFromPowerService(c);
      c.provider.host('h5').crashed = true;
      await until(c, () => path(c.events, 'h5').includes('SUSPECT→CHECKING'));
      c.driver.host('h5').power = 'OFF';
      await c.clock.advance(30 * MIN);
      expect(path(c.events, 'h5')).to.include('RECOVERING→FENCED');
      expect(released(c.events, 'h5')).to.have.length(1);
      expect(commands(c.events, 'h5', 'off')).to.deep.equal([]);
      expect(commands(c.events, 'h5', 'on')).to.deep.equal([]);
    });
  });

  describe('slow but working controllers', () => {
    it("slow-bmc-recovery-timeout: a recovery that times out after its own verified OFF is never retried as a stranger's OFF", async () => {
      // 13 s per BMC answer: status, off, verify and on do not fit into the recovery timeout.
      c = await cluster({
        config: { defaults: { powerOpTimeout: '14s', powerOffVerifyTimeout: '14s', recoverTimeout: '56s' } },
      });
      c.driver.host('h3').latencyMs = 13_000;
      c.provider.host('h3').crashed = true;
      await c.clock.advance(60 * MIN);
      const reasons = c.events.flatMap((e) =>
        e.type === 'resource.transition' && e.resource === 'h3' ? [e.reason] : [],
      );
      expect(reasons.some((r) => r.includes('must be ON'))).to.equal(false);
      expect(commands(c.events, 'h3', 'off')).to.have.length(1);
      expect(released(c.events, 'h3')).to.have.length(1);
      const state = c.service.resource({ type: 'host', id: 'h3' }).state;
      if (state === 'FENCED') expect(alertCodes(c.events, 'h3')).to.include('left-off');
      else expect(state).to.equal('AVAILABLE');
    });
  });

  describe('a recovery starts its activity streaks afresh', () => {
    it('inactive-streak-reset: after a recovery the next one needs inactiveChecksToRecover new "no activity" results', async () => {
      c = await cluster();
      Object.assign(c.provider.host('h6'), { crashed: true, stuck: true });
      await c.clock.advance(40 * MIN);
      const p = path(c.events, 'h6');
      const afterFirst = p.slice(p.indexOf('RECOVERING→INITIALIZING'));
      const second = afterFirst.indexOf('CHECKING→RECOVERING');
      expect(second).to.be.greaterThan(0);
      // two checks in a row found no activity: CHECKING→SUSPECT, then CHECKING→RECOVERING
      expect(afterFirst.slice(0, second + 1).filter((s) => s === 'SUSPECT→CHECKING').length).to.equal(2);
    });
  });

  describe('alerts of the SPEC transitions carry codes', () => {
    it('recovery exhausted and fenced: RECOVERING→FENCING and FENCING→FENCED alert with their codes', async () => {
      c = await cluster();
      Object.assign(c.provider.host('h2'), { crashed: true, stuck: true });
      await c.clock.advance(60 * MIN);
      expect(path(c.events, 'h2')).to.include('FENCING→FENCED');
      expect(alertCodes(c.events, 'h2')).to.include.members(['recovery-exhausted', 'fenced']);
    });
  });

  describe('no unhandled rejection', () => {
    it('malformed-provider-answer: a provider verdict without `ok` is a failed health check with a typed reason, not a process crash', async () => {
      c = await cluster();
      const eligible = c.provider.isEligible.bind(c.provider);
      c.provider.isEligible = async (r) => (r.ref.id === 'h2' ? (undefined as never) : eligible(r));
      await c.clock.advance(5 * MIN);
      const reasons = c.events.flatMap((e) =>
        e.type === 'resource.transition' && e.resource === 'h2' ? [e.reason] : [],
      );
      expect(reasons.some((r) => r.includes('HAF2006') && r.includes('isEligible'))).to.equal(true);
      expect(c.service.resource({ type: 'host', id: 'h2' }).state).to.not.equal('AVAILABLE');
    });
  });

  describe('no spurious transitions', () => {
    it('partition-reactivated: hosts healthy again when the partition is ACTIVE again go NONE→INITIALIZING, never through SUSPECT', async () => {
      c = await cluster({ config: { defaults: { stormCooldown: '2m' } } });
      for (const id of ['h1', 'h2', 'h3', 'h4']) c.provider.host(id).agentDown = true; // a shared failure: storm
      await until(c, () => c.service.partitionState('c1') === 'INACTIVE', 1000);
      expect(c.service.partitionState('c1')).to.equal('INACTIVE');
      for (const id of ['h1', 'h2', 'h3', 'h4']) c.provider.host(id).agentDown = false;
      await c.clock.advance(20 * MIN);
      expect(c.service.partitionState('c1')).to.equal('ACTIVE');
      for (const id of ['h1', 'h2', 'h3', 'h4']) {
        const p = path(c.events, id);
        expect(p, id).to.not.include('NONE→SUSPECT');
        expect(p[p.length - 1], id).to.equal('INITIALIZING→AVAILABLE');
      }
    });

    it('stale-power-after-own-on: a failed read-back right after our power-on does not make the host UNSUPPORTED', async () => {
      c = await cluster();
      eligibilityFromPowerService(c);
      const chassis = c.driver.host('h3');
      const log = chassis.log as string[];
      const push = log.push.bind(log);
      log.push = (...ops: string[]) => {
        if (ops.includes('on')) chassis.fault = 'error'; // the read-back right after the on fails
        return push(...ops);
      };
      c.provider.host('h3').crashed = true;
      await until(c, () => chassis.fault === 'error', 10);
      await c.clock.advance(1_500);
      chassis.fault = 'none';
      await c.clock.advance(20 * MIN);
      const p = path(c.events, 'h3');
      expect(p).to.include('RECOVERING→INITIALIZING');
      expect(p).to.not.include('INITIALIZING→UNSUPPORTED');
      expect(c.service.resource({ type: 'host', id: 'h3' }).state).to.equal('AVAILABLE');
    });
  });
});
