import { assert, expect } from 'chai';
import { MemoryStateStore } from '@hafence/core';
import { TestClock, createFakeCluster, type FakeCluster } from '@hafence/testkit';
import { MIN, alertCodes, cluster, path, released, stops } from './cluster-views.js';

describe('scenarios in virtual time', () => {
  let c: FakeCluster;
  afterEach(async () => c?.close());

  it('a crashed host is recovered by one verified power off/on and released once', async () => {
    c = await cluster();
    c.provider.host('h3').crashed = true;
    await c.clock.advance(30 * MIN);
    expect(path(c.events, 'h3')).to.deep.equal([
      'NONE→INITIALIZING',
      'INITIALIZING→AVAILABLE',
      'AVAILABLE→SUSPECT',
      'SUSPECT→CHECKING',
      'CHECKING→SUSPECT',
      'SUSPECT→CHECKING',
      'CHECKING→RECOVERING',
      'RECOVERING→INITIALIZING',
      'INITIALIZING→AVAILABLE',
    ]);
    expect(released(c.events, 'h3').map((e) => (e as { proof: string }).proof)).to.deep.equal(['power-off']);
    expect(stops(c)).to.equal(1);
    expect(c.service.resource({ type: 'host', id: 'h3' }).state).to.equal('AVAILABLE');
  });

  it('a host that stays dead after the recovery attempts is fenced with a verified OFF', async () => {
    c = await cluster();
    Object.assign(c.provider.host('h2'), { crashed: true, stuck: true });
    await c.clock.advance(60 * MIN);
    const p = path(c.events, 'h2');
    // two recovery attempts ran; the third entry into RECOVERING finds them used up
    expect(c.provider.calls.filter((k) => k.host === 'h2' && k.kind === 'recover')).to.have.length(2);
    expect(p).to.include('RECOVERING→FENCING').and.include('FENCING→FENCED');
    expect(p[p.length - 1]).to.equal('FENCING→FENCED');
    expect(released(c.events, 'h2')).to.have.length(1);
    expect(c.driver.host('h2').power).to.equal('OFF');
    expect(stops(c)).to.equal(3); // two recoveries and the fence: no endless loop
  });

  it('alive but unreachable (agent down) becomes DEGRADED and is never fenced', async () => {
    c = await cluster();
    c.provider.host('h4').agentDown = true;
    await c.clock.advance(90 * MIN);
    const p = path(c.events, 'h4');
    expect(p).to.include('CHECKING→DEGRADED');
    expect(p.some((s) => s.endsWith('RECOVERING') || s.endsWith('FENCING'))).to.equal(false);
    expect(stops(c)).to.equal(0);
    expect(released(c.events, 'h4')).to.have.length(0);
    const degradedAlerts = c.events.filter((e) => e.type === 'alert' && e.code === 'degraded');
    expect(degradedAlerts).to.have.length(1); // one alert per episode, not per re-check
  });

  it('more than half of the partition failing at once trips the storm guard: zero fences, an alert', async () => {
    c = await cluster();
    for (const id of ['h1', 'h2', 'h3', 'h4']) c.provider.host(id).crashed = true;
    await c.clock.advance(60 * MIN);
    expect(stops(c)).to.equal(0);
    expect(c.events.filter((e) => e.type === 'workloads.released')).to.have.length(0);
    expect(c.service.partitionState('c1')).to.equal('INACTIVE');
    expect(c.events.some((e) => e.type === 'alert' && e.level === 'critical' && e.code === 'storm')).to.equal(true);
  });

  it('after a storm clears the partition stays INACTIVE for the cooldown, then resumes', async () => {
    c = await cluster();
    for (const id of ['h1', 'h2', 'h3', 'h4']) c.provider.host(id).agentDown = true;
    await c.clock.advance(5 * MIN);
    for (const id of ['h1', 'h2', 'h3', 'h4']) c.provider.host(id).agentDown = false;
    await c.clock.advance(MIN);
    const lifted = c.events.find((e) => e.type === 'alert' && e.code === 'storm-lifted');
    expect(lifted).to.not.equal(undefined);
    await c.clock.advance(3 * MIN);
    expect(c.service.partitionState('c1')).to.equal('INACTIVE');
    await c.clock.advance(5 * MIN);
    expect(c.service.partitionState('c1')).to.equal('ACTIVE');
    const activated = c.events.filter((e) => e.type === 'partition.transition' && e.to === 'ACTIVE').pop()!;
    expect(activated.t - lifted!.t).to.be.at.least(300_000);
    expect(c.service.list().every((r) => r.state === 'AVAILABLE')).to.equal(true);
  });

  it('a hung activity check is aborted at its timeout and counts as an error, never as "no activity"', async () => {
    c = await cluster();
    Object.assign(c.provider.host('h5'), { crashed: true, activity: 'hang' });
    await c.clock.advance(60 * MIN);
    const checks = c.provider.calls.filter((k) => k.host === 'h5' && k.kind === 'activity');
    expect(checks.length).to.be.at.least(5);
    expect(checks.every((k) => k.aborted && k.endedAt! - k.startedAt >= 60_000)).to.equal(true);
    const reasons = c.events.flatMap((e) =>
      e.type === 'resource.transition' && e.resource === 'h5' ? [e.reason] : [],
    );
    expect(reasons.filter((r) => r.startsWith('activity-error: activity check timed out'))).to.have.length(4);
    expect(reasons.some((r) => r.startsWith('activity-errors-exhausted'))).to.equal(true);
    expect(c.service.resource({ type: 'host', id: 'h5' }).state).to.equal('FAILED');
    expect(stops(c)).to.equal(0);
  });
});

describe('safety guards', () => {
  let c: FakeCluster;
  afterEach(async () => c?.close());

  it('startup grace: no recovery or fence within startupGrace of the service starting', async () => {
    c = await createFakeCluster({ hosts: 6, config: { startupGrace: '300s' } });
    await c.clock.advance(MIN);
    c.provider.host('h1').crashed = true;
    await c.clock.advance(3 * MIN);
    expect(c.service.resource({ type: 'host', id: 'h1' }).state).to.equal('RECOVERING');
    expect(stops(c)).to.equal(0);
    await c.clock.advance(3 * MIN);
    const [first] = (c.store as MemoryStateStore).fenceEntries();
    const [start] = c.events;
    assert.exists(first, 'a fence entry');
    assert.exists(start, 'an event');
    expect(first.at - start.t).to.be.at.least(300_000);
  });

  it('fence budget: a flapping host gets at most 3 stop commands an hour, then fencing.halted', async () => {
    c = await cluster({ config: { defaults: { quietPeriod: '30s' } } });
    const h = c.provider.host('h6');
    for (let i = 0; i < 12; i++) {
      h.crashed = true;
      await c.clock.advance(5 * MIN);
    }
    const entries = (c.store as MemoryStateStore).fenceEntries();
    for (const e of entries) {
      const inWindow = entries.filter((x) => x.at > e.at - 60 * MIN && x.at <= e.at);
      expect(inWindow.length).to.be.at.most(3);
    }
    expect(entries.length).to.be.at.least(3);
    expect(c.events.some((e) => e.type === 'fencing.halted' && e.scope === 'c1')).to.equal(true);
  });

  it('an operator resume lets a held stop command go', async () => {
    c = await cluster({ config: { defaults: { maxFencesPerWindow: 0 } } });
    c.provider.host('h2').crashed = true;
    await c.clock.advance(10 * MIN);
    expect(stops(c)).to.equal(0);
    expect(c.events.some((e) => e.type === 'fencing.halted')).to.equal(true);
    expect(c.service.resource({ type: 'host', id: 'h2' }).state).to.equal('RECOVERING');
    c.service.resumeFencing('c1');
    await c.clock.advance(MIN);
    expect(stops(c)).to.equal(0); // the limit is 0: resume only resets the window
  });

  it('stale results are discarded: a health pass during a hung activity check cancels it', async () => {
    c = await cluster();
    Object.assign(c.provider.host('h3'), { agentDown: true, activity: 'hang' });
    await c.clock.advance(40_000);
    expect(c.service.resource({ type: 'host', id: 'h3' }).state).to.equal('CHECKING');
    c.provider.host('h3').agentDown = false;
    await c.clock.advance(20_000);
    expect(c.service.resource({ type: 'host', id: 'h3' }).state).to.equal('AVAILABLE');
    const check = c.provider.calls.find((k) => k.host === 'h3' && k.kind === 'activity')!;
    expect(check.aborted).to.equal(true);
    const after = path(c.events, 'h3');
    expect(after[after.length - 1]).to.equal('CHECKING→AVAILABLE');
    await c.clock.advance(10 * MIN);
    expect(path(c.events, 'h3')).to.deep.equal(after);
  });

  it('health is re-checked right before a stop command: a host healthy again is not powered off', async () => {
    c = await cluster();
    c.service.events$.subscribe((e) => {
      if (e.type === 'resource.transition' && e.resource === 'h3' && e.to === 'RECOVERING')
        c.provider.host('h3').health = 'pass';
    });
    c.provider.host('h3').crashed = true;
    await c.clock.advance(10 * MIN);
    expect(stops(c)).to.equal(0);
    const last = c.events.filter((e) => e.type === 'resource.transition' && e.resource === 'h3').pop();
    expect(last).to.include({ from: 'RECOVERING', to: 'AVAILABLE' });
    expect((last as { reason: string }).reason).to.include('right before a stop command');
  });

  it('self-doubt: when most of all its resources fail, the service stops recovering and alerts', async () => {
    c = await cluster({ hosts: 8, config: { clusters: { c1: { maxUnhealthyFraction: 0.9 } } } });
    for (const id of ['h1', 'h2', 'h3', 'h4', 'h5']) c.provider.host(id).crashed = true;
    await c.clock.advance(20 * MIN);
    expect(c.service.selfDoubting).to.equal(true);
    expect(c.service.partitionState('c1')).to.equal('ACTIVE');
    expect(stops(c)).to.equal(0);
    expect(c.events.some((e) => e.type === 'alert' && e.code === 'self-doubt')).to.equal(true);
  });

  it('a host powered off outside the framework is released once (power observed OFF), with no stop command', async () => {
    c = await cluster();
    c.driver.host('h1').power = 'OFF';
    await c.clock.advance(5 * MIN);
    expect(released(c.events, 'h1').map((e) => (e as { proof: string }).proof)).to.deep.equal(['power-off']);
    // A chassis read OFF is not eligible (SPEC §5.1): UNSUPPORTED, and no episode to fence.
    expect(c.service.resource({ type: 'host', id: 'h1' }).state).to.equal('UNSUPPORTED');
    expect(stops(c)).to.equal(0);
  });

  it('maintenance sends a host to INELIGIBLE and back', async () => {
    c = await cluster();
    c.provider.host('h2').maintenance = true;
    await c.clock.advance(MIN);
    expect(c.service.resource({ type: 'host', id: 'h2' }).state).to.equal('INELIGIBLE');
    expect(c.service.forHaWork().map((r) => r.id)).to.not.include('h2');
    expect(c.service.forNonHaWork().map((r) => r.id)).to.include('h2');
    c.provider.host('h2').maintenance = false;
    await c.clock.advance(MIN);
    expect(c.service.resource({ type: 'host', id: 'h2' }).state).to.equal('AVAILABLE');
  });

  it('HA disabled mid-recovery cancels the in-flight work and every host goes to NONE', async () => {
    c = await cluster();
    Object.assign(c.provider.host('h3'), { crashed: true, recover: 'hang' });
    await c.clock.advance(2 * MIN);
    expect(c.service.resource({ type: 'host', id: 'h3' }).state).to.equal('RECOVERING');
    await c.service.setHaEnabled('c1', false);
    await c.clock.advance(MIN);
    expect(c.service.partitionState('c1')).to.equal('NONE');
    expect(c.service.list().every((r) => r.state === 'NONE')).to.equal(true);
    expect(c.provider.calls.find((k) => k.host === 'h3' && k.kind === 'recover')!.aborted).to.equal(true);
  });

  it('a restarted service resumes persisted state and counters from the store', async () => {
    const store = new MemoryStateStore();
    c = await cluster({ store });
    Object.assign(c.provider.host('h3'), { crashed: true, stuck: true });
    await c.clock.advance(4 * MIN);
    const before = await store.getResource('host:h3');
    expect(before?.episode?.recoverAttempts).to.be.at.least(1);
    await c.close();
    c = await createFakeCluster({ hosts: 6, store, clock: c.clock, config: { startupGrace: 0 } });
    Object.assign(c.provider.host('h3'), { crashed: true, stuck: true });
    c.driver.host('h3').power = 'ON';
    await c.clock.advance(60 * MIN);
    const p = path(c.events, 'h3');
    expect(p[p.length - 1]).to.equal('FENCING→FENCED');
    expect(p.filter((s) => s === 'CHECKING→RECOVERING').length).to.be.at.most(2);
  });
  it('killed between the verified OFF and the power-on: the restart powers the host on once, releases once, and the budget keeps the stop', async () => {
    const store = new MemoryStateStore();
    let dead = false;
    c = await cluster({ store: crashable(store, () => dead) });
    c.provider.host('h3').crashed = true;
    let ons = 0;
    c.service.events$.subscribe((e) => {
      if (e.type === 'workloads.released' && e.resource === 'h3') {
        dead = true;
        c.driver.host('h3').fault = 'hang'; // the power-on never reaches the controller
      }
      if (e.type === 'power.action' && e.host === 'h3' && e.action === 'on' && e.ok) ons++;
    });
    for (let i = 0; i < 100_000 && !dead; i++) await c.clock.advance(10);
    assert(dead, 'the recovery reached its verified OFF');
    const persisted = await store.getResource('host:h3');
    expect(persisted?.state).to.equal('RECOVERING');
    expect(persisted?.episode).to.include({ released: true, ownOff: true });
    expect(await store.listIntents()).to.have.length(1);
    const stopsBefore = store.fenceEntries().length;
    expect(stopsBefore).to.equal(1);
    const first = released(c.events, 'h3');
    expect(first).to.have.length(1);
    await c.close();

    c = await createFakeCluster({ hosts: 6, store, clock: c.clock, config: { startupGrace: 0 } });
    c.driver.host('h3').power = 'OFF'; // the controllers outlive the management server
    await c.clock.advance(30 * MIN);
    const onCommands = c.events.filter((e) => e.type === 'power.action' && e.host === 'h3' && e.action === 'on');
    expect(onCommands).to.have.length(1);
    expect(ons).to.equal(0);
    // Released before the kill, never again: the restart only relays that release, same id and episode — killed as it
    // was emitted, its delivery was never recorded (docs/behaviour.md#persistence: at least once).
    expect(released(c.events, 'h3')).to.deep.equal(first);
    expect(path(c.events, 'h3')).to.deep.equal(['RECOVERING→INITIALIZING', 'INITIALIZING→AVAILABLE']);
    expect(c.driver.host('h3').power).to.equal('ON');
    expect(store.fenceEntries().length).to.equal(stopsBefore); // no new stop: the budget kept the old one
    expect(await store.listIntents()).to.deep.equal([]);
  });
  it('killed right after the power-on left: the restart reads ON after our verified OFF and sends nothing more', async () => {
    const store = new MemoryStateStore();
    let dead = false;
    c = await cluster({ store: crashable(store, () => dead) });
    c.provider.host('h3').crashed = true;
    c.service.events$.subscribe((e) => {
      // The power-on reached the controller; the process dies before it hears back.
      if (e.type === 'workloads.released' && e.resource === 'h3') dead = true;
    });
    for (let i = 0; i < 100_000 && !dead; i++) await c.clock.advance(10);
    assert(dead, 'the recovery reached its verified OFF');
    await c.clock.advance(1_000); // the on lands at the controller
    expect(c.driver.host('h3').power).to.equal('ON');
    const first = released(c.events, 'h3');
    expect(first).to.have.length(1);
    await c.close();

    c = await createFakeCluster({ hosts: 6, store, clock: c.clock, config: { startupGrace: 0 } });
    await c.clock.advance(30 * MIN);
    const sent = c.events.filter((e) => e.type === 'power.action' && e.host === 'h3' && e.action !== 'status');
    expect(sent).to.deep.equal([]);
    expect(path(c.events, 'h3')).to.deep.equal(['RECOVERING→INITIALIZING', 'INITIALIZING→AVAILABLE']);
    expect(released(c.events, 'h3')).to.deep.equal(first); // relayed (delivery not recorded), never released anew
  });

  it('killed with a fence stop in flight: the restart is not held up by the status read, and settles FENCED without a new stop', async () => {
    const store = new MemoryStateStore();
    let dead = false;
    c = await cluster({ store: crashable(store, () => dead) });
    Object.assign(c.provider.host('h3'), { crashed: true, stuck: true });
    c.service.events$.subscribe((e) => {
      if (e.type === 'power.action' && e.host === 'h3' && e.action === 'off' && !dead) {
        if (c.service.resource({ type: 'host', id: 'h3' }).state === 'FENCING') dead = true;
      }
    });
    for (let i = 0; i < 100_000 && !dead; i++) await c.clock.advance(100);
    assert(dead, 'the fence sent its stop');
    expect((await store.listIntents()).map((i) => i.resource)).to.deep.equal(['host:h3']);
    const stopsBefore = store.fenceEntries().length;
    await c.close();

    const clock = c.clock;
    // Nothing advances the clock while the cluster is built: a status read awaited there would never end.
    c = await createFakeCluster({ hosts: 6, store, clock, config: { startupGrace: 0 } });
    c.driver.host('h3').power = 'OFF';
    await c.clock.advance(10 * MIN);
    const p = path(c.events, 'h3');
    expect(p[p.length - 1]).to.equal('FENCING→FENCED');
    expect(alertCodes(c.events, 'h3')).to.include('left-off');
    expect(store.fenceEntries().length).to.equal(stopsBefore);
    expect(await store.listIntents()).to.deep.equal([]);
  });
});

describe('regressions found in review', () => {
  let c: FakeCluster;
  afterEach(async () => c?.close());

  it('interrupted-stop-left-off: HA disabled between off and on → status read, alert, and the release (proof: our own OFF read)', async () => {
    c = await cluster();
    c.provider.host('h3').crashed = true;
    const offSent = () => c.events.some((e) => e.type === 'power.action' && e.host === 'h3' && e.action === 'off');
    for (let i = 0; i < 100_000 && !offSent(); i++) await c.clock.advance(1);
    await c.service.setHaEnabled('c1', false); // between the off and the on
    await c.clock.advance(10 * MIN);
    expect(c.driver.host('h3').power).to.equal('OFF');
    expect(c.events.some((e) => e.type === 'alert' && e.code === 'left-off' && e.resource === 'h3')).to.equal(true);
    expect(released(c.events, 'h3').map((e) => (e as { proof: string }).proof)).to.deep.equal(['power-off']);
  });

  it('self-doubt-mid-recovery: a recovery already running sends no stop command once the service doubts itself', async () => {
    c = await cluster({ hosts: 8, config: { clusters: { c1: { maxUnhealthyFraction: 0.9 } } } });
    c.driver.host('h1').latencyMs = 15_000; // a slow BMC: the recovery is still before its off
    c.provider.host('h1').crashed = true;
    for (let i = 0; i < 600 && c.service.resource({ type: 'host', id: 'h1' }).state !== 'RECOVERING'; i++)
      await c.clock.advance(1000);
    for (const id of ['h2', 'h3', 'h4', 'h5']) c.provider.host(id).crashed = true;
    await c.clock.advance(10 * MIN);
    expect(c.service.selfDoubting).to.equal(true);
    const offs = c.events.filter((e) => e.type === 'power.action' && e.action !== 'status' && e.action !== 'on');
    expect(offs).to.deep.equal([]);
  });

  it('gated-retry-no-spin: a restart inside the startup grace with a past retry time does not spin the timer', async () => {
    const store = new MemoryStateStore();
    c = await cluster({ store });
    Object.assign(c.provider.host('h3'), { crashed: true, recover: 'fail' });
    for (let i = 0; i < 10_000 && !path(c.events, 'h3').includes('RECOVERING→RECOVERING'); i++)
      await c.clock.advance(100);
    const t0 = c.clock.now();
    await c.close();
    const clock = new TestClock(t0 + 40_000); // the retry time has passed
    let timers = 0;
    const setTimeout = clock.setTimeout.bind(clock);
    clock.setTimeout = (fn, ms) => ((timers += 1), setTimeout(fn, ms));
    c = await createFakeCluster({ hosts: 6, store, clock, config: { startupGrace: '300s' } });
    Object.assign(c.provider.host('h3'), { crashed: true, recover: 'fail' });
    await c.clock.advance(1000);
    expect(timers).to.be.below(500);
    await c.clock.advance(10 * MIN);
    expect(
      c.provider.calls.filter((k) => k.host === 'h3' && k.kind === 'recover' && k.startedAt < t0 + 40_000 + 300_000),
    ).to.have.length(0);
  });
});

/** kill -9 of the process a store serves: once `dead()`, nothing the old process does reaches the store. */
function crashable(store: MemoryStateStore, dead: () => boolean): MemoryStateStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        dead()
          ? Promise.reject(new Error('process killed'))
          : (value as (...a: unknown[]) => unknown).apply(target, args);
    },
  });
}
