import { expect } from 'chai';
import { MemoryStateStore, type HaEvent, type HaService, type ResourceSpec, type StopOptions } from '@hafence/core';
import { createFakeCluster, flushMicrotasks, type FakeCluster, type FakeProvider } from '@hafence/testkit';

/** Provider methods a test can make hang forever, ignoring their AbortSignal. */
type HangMethod =
  | 'healthCheck'
  | 'activityCheck'
  | 'recover'
  | 'fence'
  | 'selfFenceLease'
  | 'isEligible'
  | 'isInMaintenance'
  | 'partitionConditions';

/** Replaces `method` of `provider` so that, once `armed()`, calls for `host` (any host when undefined) never settle. */
function hangForever(provider: FakeProvider, method: HangMethod, armed: () => boolean, host?: string): () => number {
  let hung = 0;
  const p = provider as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const orig = p[method]!.bind(provider);
  p[method] = (...args: unknown[]) => {
    const spec = args[0] as ResourceSpec | { partition?: { id: string } };
    const id = (spec as ResourceSpec).ref?.id;
    if (armed() && (host === undefined || id === undefined || id === host)) {
      hung++;
      return new Promise(() => undefined); // never answers and ignores ctx.signal
    }
    return orig(...args);
  };
  return () => hung;
}

/** stop() on a TestClock must end without the clock moving; returns how it ended within 3 s of real time. */
async function stopsWithoutClock(service: HaService, options: StopOptions = {}): Promise<'ended' | 'hung'> {
  let done = false;
  const stopped = service.stop(options).then(() => (done = true));
  for (let i = 0; i < 200 && !done; i++) await flushMicrotasks();
  if (done) return 'ended';
  const timer = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 3_000));
  return Promise.race([stopped.then(() => 'ended' as const), timer]);
}

/** Transitions and alerts emitted after index `from`. */
function decided(events: HaEvent[], from: number): string[] {
  return events
    .slice(from)
    .filter((e) => e.type === 'alert' || e.type === 'resource.transition')
    .map((e) => (e.type === 'alert' ? `alert:${e.code}` : `${e.type}:${JSON.stringify(e)}`));
}

async function cluster(config: Parameters<typeof createFakeCluster>[0] = {}): Promise<FakeCluster> {
  return createFakeCluster({ hosts: 6, ...config, config: { startupGrace: 0, jitterFraction: 0, ...config.config } });
}

async function advanceUntil(c: FakeCluster, cond: () => boolean, maxMs = 3_600_000, step = 500): Promise<boolean> {
  for (let t = 0; t < maxMs && !cond(); t += step) await c.clock.advance(step);
  return cond();
}

async function stopAndCheck(c: FakeCluster): Promise<void> {
  const from = c.events.length;
  const how = await stopsWithoutClock(c.service);
  c.power.stopSync();
  await c.power.close();
  expect(how, 'stop() ended without the clock moving').to.equal('ended');
  expect(decided(c.events, from), 'no transition or alert after stop began').to.deep.equal([]);
}

describe('break: HaService.stop() with provider calls that never settle and ignore their signal', () => {
  it('healthCheck hung', async () => {
    const c = await cluster();
    await c.clock.advance(60_000);
    let armed = false;
    const hung = hangForever(c.provider, 'healthCheck', () => armed, 'h3');
    armed = true;
    expect(await advanceUntil(c, () => hung() > 0), 'the hang was reached').to.equal(true);
    await stopAndCheck(c);
  });

  it('activityCheck hung on a crashed host', async () => {
    const c = await cluster();
    await c.clock.advance(60_000);
    const hung = hangForever(c.provider, 'activityCheck', () => true, 'h3');
    c.provider.host('h3').crashed = true;
    expect(await advanceUntil(c, () => hung() > 0), 'the hang was reached').to.equal(true);
    await stopAndCheck(c);
  });

  it('recover hung on a crashed host', async () => {
    const c = await cluster();
    await c.clock.advance(60_000);
    const hung = hangForever(c.provider, 'recover', () => true, 'h3');
    c.provider.host('h3').crashed = true;
    expect(await advanceUntil(c, () => hung() > 0), 'the hang was reached').to.equal(true);
    await stopAndCheck(c);
  });

  it('fence hung on a crashed, stuck host whose recoveries fail', async () => {
    const c = await cluster();
    await c.clock.advance(60_000);
    const hung = hangForever(c.provider, 'fence', () => true, 'h3');
    c.provider.host('h3').crashed = true;
    c.provider.host('h3').stuck = true;
    c.provider.host('h3').recover = 'fail';
    expect(await advanceUntil(c, () => hung() > 0), 'the hang was reached').to.equal(true);
    await stopAndCheck(c);
  });

  it('selfFenceLease hung while the controller is down and the sync daemon still runs', async () => {
    const c = await cluster();
    await c.clock.advance(60_000);
    const hung = hangForever(c.provider, 'selfFenceLease', () => true, 'h3');
    c.driver.host('h3').fault = 'down';
    c.provider.host('h3').crashed = true;
    expect(await advanceUntil(c, () => hung() > 0), 'the hang was reached').to.equal(true);
    await stopAndCheck(c);
  });

  for (const method of ['isEligible', 'isInMaintenance', 'partitionConditions'] as const) {
    it(`${method} hung (reassessment after a crash)`, async () => {
      const c = await cluster();
      await c.clock.advance(60_000);
      let armed = false;
      const hung = hangForever(c.provider, method, () => armed);
      armed = true;
      c.provider.host('h2').maintenance = true;
      c.provider.host('h3').crashed = true;
      expect(await advanceUntil(c, () => hung() > 0, 600_000), 'the hang was reached').to.equal(true);
      await stopAndCheck(c);
    });
  }
});

describe('break: HaService.stop() with a BMC that hangs', () => {
  it('a recovery mid-way: its own off was sent, then the controller hangs; the next start resumes the intent', async () => {
    const store = new MemoryStateStore();
    const c = await cluster({ store });
    await c.clock.advance(60_000);
    const chassis = c.driver.host('h3');
    const push = chassis.log.push.bind(chassis.log);
    let armed = true;
    chassis.log.push = (...ops: Parameters<typeof push>) => {
      const n = push(...ops);
      if (armed && ops.some((o) => String(o).includes('off'))) {
        chassis.fault = 'hang'; // the off lands; every later call to this controller hangs
        armed = false;
      }
      return n;
    };
    c.provider.host('h3').crashed = true;
    expect(await advanceUntil(c, () => !armed), 'the off was sent').to.equal(true);
    await c.clock.advance(200);
    const from = c.events.length;
    const how = await stopsWithoutClock(c.service, { closeStore: false });
    c.power.stopSync();
    await c.power.close();
    expect(how).to.equal('ended');
    expect(decided(c.events, from)).to.deep.equal([]);
    expect(
      (await store.listIntents()).map((i) => i.resource),
      'the off intent is kept',
    ).to.deep.equal(['host:h3']);

    // Next start over the same store: the controller answers again, the chassis is OFF (the off landed).
    const d = await cluster({ store, clock: c.clock, sync: false });
    d.driver.host('h3').power = 'OFF';
    d.provider.host('h3').crashed = true;
    d.power.startSync();
    await d.clock.advance(30 * 60_000);
    const released = [...c.events, ...d.events].filter((e) => e.type === 'workloads.released' && e.resource === 'h3');
    const alerts = d.events.filter((e) => e.type === 'alert').map((e) => (e.type === 'alert' ? e.code : ''));
    await d.close();
    expect(await store.listIntents(), 'the resumed intent was reconciled').to.deep.equal([]);
    expect(released.length, 'workloads released once for the episode').to.equal(1);
    expect(alerts).to.not.include('reconcile-failed');
  });

  it('a fence waiting for the fence budget', async () => {
    const c = await cluster({ config: { defaults: { maxFencesPerWindow: 1 } } });
    await c.clock.advance(60_000);
    for (const h of ['h2', 'h3', 'h4']) {
      c.provider.host(h).crashed = true;
      c.provider.host(h).stuck = true;
    }
    await c.clock.advance(20 * 60_000);
    await stopAndCheck(c);
  });

  it('hosts held by a halted fence budget: stop, then a restart over the same store keeps the budget spent', async () => {
    const store = new MemoryStateStore();
    const config = { defaults: { maxFencesPerWindow: 1 } };
    const c = await cluster({ store, config });
    await c.clock.advance(60_000);
    for (const h of ['h2', 'h3', 'h4']) {
      c.provider.host(h).crashed = true;
      c.provider.host(h).stuck = true;
    }
    await c.clock.advance(10 * 60_000);
    const halted = c.service.fenceBudgets().find((b) => b.scope === 'c1');
    expect(halted?.halted, 'c1 fencing halted: hosts wait for the budget').to.equal(true);
    await stopAndCheck(c);
    const d = await cluster({ store, clock: c.clock, config, sync: false });
    for (const h of ['h2', 'h3', 'h4']) {
      d.provider.host(h).crashed = true;
      d.provider.host(h).stuck = true;
    }
    d.power.startSync();
    await d.clock.advance(10 * 60_000);
    const offs = [...c.events, ...d.events].filter((e) => e.type === 'power.action' && e.action === 'off');
    await d.close();
    expect(offs.length, 'one stop command in the window across the restart').to.be.at.most(1);
  });

  it('every controller hangs while everything is mid-flight', async () => {
    const c = await cluster();
    await c.clock.advance(60_000);
    for (const h of ['h2', 'h3']) c.provider.host(h).crashed = true;
    await c.clock.advance(45_000);
    for (const h of c.hostIds) c.driver.host(h).fault = 'hang';
    await c.clock.advance(30_000);
    await stopAndCheck(c);
  });
});

describe('break: HaService.stop({ deadlineMs }) with provider calls that ignore their signal', () => {
  for (const method of ['healthCheck', 'activityCheck', 'recover'] as const) {
    it(`${method} hung: stop ends at the deadline; a second stop is the same promise`, async () => {
      const c = await cluster();
      await c.clock.advance(60_000);
      const hung = hangForever(c.provider, method, () => true, 'h3');
      if (method !== 'healthCheck') c.provider.host('h3').crashed = true;
      expect(await advanceUntil(c, () => hung() > 0), 'the hang was reached').to.equal(true);
      const from = c.events.length;
      let done = false;
      const first = c.service.stop({ deadlineMs: 10_000 });
      expect(c.service.stop(), 'the same stop').to.equal(first);
      void first.then(() => (done = true));
      await c.clock.advance(9_000);
      expect(done, 'not before the deadline').to.equal(false);
      await c.clock.advance(1_100);
      for (let i = 0; i < 200 && !done; i++) await flushMicrotasks();
      const how = done ? 'ended' : 'hung';
      c.power.stopSync();
      await c.power.close();
      expect(how).to.equal('ended');
      expect(decided(c.events, from).filter((d) => d.startsWith('alert:'))).to.deep.equal([]);
    });
  }
});
