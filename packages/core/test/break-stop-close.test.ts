import { expect } from 'chai';
import { HaService, InvalidRequestError, PowerManagementService, type Logger, type StopOptions } from '@hafence/core';
import { FakePowerDriver, FakeProvider, TestClock, flushMicrotasks } from '@hafence/testkit';
import { HangingStore, stopsWithoutClock } from './helpers/hanging-store.js';
import { threeHosts } from './helpers/three-hosts.js';

/** A logger keeping its warnings. */
function warnings(): { logger: Logger; warns: string[] } {
  const warns: string[] = [];
  const noop = () => undefined;
  return { warns, logger: { debug: noop, info: noop, error: noop, warn: (m) => void warns.push(m) } };
}

const never = () => new Promise<never>(() => undefined);

async function running(opts: { hangShutdown?: boolean } = {}) {
  const store = new HangingStore();
  const { logger, warns } = warnings();
  const c = await threeHosts(store, { logger, ...(opts.hangShutdown ? { hangShutdown: true } : {}) });
  await c.clock.advance(60_000);
  return { ...c, store, warns };
}

/** Starts stop() and moves the clock in `step` ms until it ends: the clock time it took, or 'hung' after `maxMs`. */
async function stopEndsAfter(
  clock: TestClock,
  stop: () => Promise<void>,
  maxMs: number,
  step = 250,
): Promise<number | 'hung'> {
  const t0 = clock.now();
  let done = false;
  let failed: unknown;
  void stop().then(
    () => (done = true),
    (e: unknown) => ((failed = e), (done = true)),
  );
  for (let i = 0; i < 100 && !done; i++) await flushMicrotasks();
  for (let n = 0; !done && clock.now() - t0 < maxMs && n < 10_000; n++) {
    await clock.advance(step);
    for (let i = 0; i < 50 && !done; i++) await flushMicrotasks();
  }
  if (failed !== undefined) throw failed as Error;
  return done ? clock.now() - t0 : 'hung';
}

/** Brings a transition write (a crashed h2) into the store and holds it there. */
async function holdTransitionWrite(c: Awaited<ReturnType<typeof running>>) {
  c.store.hold.add('saveResourceWithEvents');
  c.provider.host('h2').crashed = true;
  for (let i = 0; i < 600 && c.store.heldCalls.length === 0; i++) await c.clock.advance(100);
  expect(
    c.store.heldCalls.map((h) => h.method),
    'a transition write is in hand',
  ).to.include('saveResourceWithEvents');
}

describe('break: stop() and closeWaitMs', () => {
  it('store close() never answers: stop() ends within the default 30 s on the clock, warns, events$ completes', async () => {
    const c = await running();
    c.store.hangClose = true;
    const took = await stopEndsAfter(c.clock, () => c.ha.stop(), 60_000);
    expect(took).to.not.equal('hung');
    expect(took).to.be.at.most(30_250);
    expect(c.completed(), 'events$ completed').to.equal(true);
    expect(c.warns.length, 'a warning logged').to.be.greaterThan(0);
    expect(c.store.closed).to.equal(1);
  });

  it('provider shutdown() never answers: stop() ends within 30 s, still closes the store, warns', async () => {
    const c = await running({ hangShutdown: true });
    const took = await stopEndsAfter(c.clock, () => c.ha.stop(), 60_000);
    expect(took).to.not.equal('hung');
    expect(took).to.be.at.most(30_250);
    expect(c.shutdowns()).to.equal(1);
    await c.clock.advance(60_000);
    expect(c.store.closed, 'the store is still closed (by stop() or later)').to.equal(1);
    expect(c.completed()).to.equal(true);
    expect(c.warns.length).to.be.greaterThan(0);
  });

  it('a held write, a hung shutdown() and a hung close(): closeWaitMs 5 s bounds them in total', async () => {
    const c = await running({ hangShutdown: true });
    c.store.hangClose = true;
    c.store.hang.add('releaseLease');
    await holdTransitionWrite(c);
    const took = await stopEndsAfter(c.clock, () => c.ha.stop({ closeWaitMs: 5_000 }), 60_000);
    expect(took).to.not.equal('hung');
    expect(took, 'not 5 s for each').to.be.at.most(5_250);
    expect(c.completed()).to.equal(true);
  });

  it('deadlineMs 10 s + closeWaitMs 5 s, a health check ignoring its signal, hung shutdown and close: ended by 15 s', async () => {
    const c = await running({ hangShutdown: true });
    c.store.hangClose = true;
    let checks = 0;
    Object.assign(c.provider, {
      healthCheck: () => {
        checks++;
        return never();
      },
    });
    for (let i = 0; i < 600 && checks === 0; i++) await c.clock.advance(100);
    expect(checks, 'a check is running').to.be.greaterThan(0);
    const took = await stopEndsAfter(c.clock, () => c.ha.stop({ deadlineMs: 10_000, closeWaitMs: 5_000 }), 120_000);
    expect(took).to.not.equal('hung');
    expect(took).to.be.at.most(15_250);
    expect(c.completed()).to.equal(true);
  });

  it('closeWaitMs 0: hung shutdown(), close() and a held write: stop() ends once the clock reaches now (advance(0))', async () => {
    const c = await running({ hangShutdown: true });
    c.store.hangClose = true;
    await holdTransitionWrite(c);
    expect(await stopEndsAfter(c.clock, () => c.ha.stop({ closeWaitMs: 0 }), 1_000, 0)).to.equal(0);
    expect(c.completed()).to.equal(true);
  });

  it('without a deadline stop() waits for a store write in hand, which is recorded, and warns of nothing', async () => {
    const c = await running();
    await holdTransitionWrite(c);
    const heldCalls = c.store.heldCalls[0];
    let done = false;
    const stopped = c.ha.stop().then(() => (done = true));
    for (let i = 0; i < 100; i++) await flushMicrotasks();
    await c.clock.advance(1_000);
    expect(done, 'stop() waits for the write').to.equal(false);
    heldCalls?.answer();
    await c.clock.advance(1_000);
    expect(await stopsWithoutClock(() => stopped.then(() => undefined))).to.equal('ended');
    const h2 = (await c.store.loadResources()).find((r) => r.key.includes('h2'));
    expect(h2?.state, 'the transition was recorded').to.not.equal(undefined);
    expect(h2?.state, 'h2 left AVAILABLE').to.not.equal('AVAILABLE');
    expect(c.warns, 'no warning').to.deep.equal([]);
  });

  for (const late of ['answers', 'fails'] as const) {
    it(`a store write that ${late} after stop() resolved: no unhandled rejection, no store call or event afterwards`, async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (r: unknown) => void unhandled.push(r);
      // Mocha runs with --unhandled-rejections=strict; this listener records instead of crashing the run.
      process.on('unhandledRejection', onUnhandled);
      try {
        const c = await running();
        await holdTransitionWrite(c);
        const took = await stopEndsAfter(c.clock, () => c.ha.stop({ closeWaitMs: 2_000 }), 10_000);
        expect(took).to.not.equal('hung');
        const events = c.events.length;
        const calls = c.store.calls.length;
        const heldCalls = c.store.heldCalls.splice(0);
        for (const h of heldCalls) {
          if (late === 'answers') h.answer();
          else h.fail(new Error('connection reset'));
        }
        for (let i = 0; i < 50; i++) await flushMicrotasks();
        await c.clock.advance(120_000);
        await new Promise((r) => setTimeout(r, 50));
        expect(unhandled.map(String), 'unhandled rejections').to.deep.equal([]);
        expect(c.events.length, 'no event after stop()').to.equal(events);
        expect(c.store.calls.slice(calls), 'no store call after stop()').to.deep.equal([]);
        expect(c.provider.running(), 'no provider call after stop()').to.deep.equal([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });
  }
});

describe('break: stop() options', () => {
  const bad: [string, unknown][] = [
    ['deadlineMs', -1],
    ['deadlineMs', NaN],
    ['deadlineMs', Infinity],
    ['deadlineMs', -Infinity],
    ['deadlineMs', '100'],
    ['deadlineMs', null],
    ['closeWaitMs', -1],
    ['closeWaitMs', NaN],
    ['closeWaitMs', Infinity],
    ['closeWaitMs', -0.5],
    ['closeWaitMs', '0'],
  ];
  for (const [name, value] of bad) {
    it(`${name}: ${String(value)} (${typeof value}) rejects with InvalidRequestError and stops nothing`, async () => {
      const c = await running();
      const err = await c.ha.stop({ [name]: value } as StopOptions).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(InvalidRequestError);
      const checks = c.provider.calls.length;
      await c.clock.advance(60_000);
      expect(c.provider.calls.length, 'checks go on').to.be.greaterThan(checks);
      expect(c.completed(), 'events$ open').to.equal(false);
      expect(c.store.closed, 'store open').to.equal(0);
      expect(c.shutdowns(), 'providers not shut down').to.equal(0);
      c.provider.host('h3').crashed = true;
      const from = c.events.length;
      await c.clock.advance(120_000);
      expect(
        c.events.slice(from).some((e) => e.type === 'resource.transition'),
        'the engine still decides',
      ).to.equal(true);
      expect(await stopsWithoutClock(() => c.ha.stop())).to.equal('ended');
      expect(c.completed()).to.equal(true);
    });
  }

  it('stop() twice with different options returns the same promise, bounded by the first closeWaitMs', async () => {
    const c = await running();
    c.store.hangClose = true;
    const first = c.ha.stop({ closeWaitMs: 5_000 });
    const second = c.ha.stop({ closeWaitMs: 0, deadlineMs: 1 });
    expect(second).to.equal(first);
    const took = await stopEndsAfter(c.clock, () => second, 60_000);
    expect(took).to.not.equal('hung');
    expect(took).to.be.at.most(5_250);
    expect(c.store.closed, 'closed once').to.equal(1);
    expect(c.shutdowns(), 'shut down once').to.equal(1);
  });

  it('stop() again with bad options while stopping does not disturb the first stop()', async () => {
    const c = await running();
    c.store.hangClose = true;
    const first = c.ha.stop({ closeWaitMs: 3_000 });
    const again = await c.ha.stop({ closeWaitMs: -1 }).then(
      (): unknown => 'resolved',
      (e: unknown) => e,
    );
    if (again !== 'resolved') expect(again).to.be.instanceOf(InvalidRequestError);
    const took = await stopEndsAfter(c.clock, () => first, 60_000);
    expect(took).to.be.at.most(3_250);
    expect(c.store.closed).to.equal(1);
  });
});

describe('break: stop() on the real clock', () => {
  it('store close() and provider shutdown() hang, closeWaitMs 200: stop() ends within 2 s of real time', async () => {
    const store = new HangingStore();
    store.hangClose = true;
    const provider = new FakeProvider();
    Object.assign(provider, { shutdown: never });
    const { logger, warns } = warnings();
    const ha = new HaService({ providers: [provider], store, logger, config: { startupGrace: 0 } });
    let completed = false;
    ha.events$.subscribe({ complete: () => (completed = true) });
    await ha.start();
    await ha.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
    await ha.addResource({ ref: { type: 'host', id: 'h1' }, partition: 'c1' });
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const how = await Promise.race([
      ha.stop({ closeWaitMs: 200 }).then(() => 'ended'),
      new Promise<string>((r) => (timer = setTimeout(() => r('hung'), 2_000))),
    ]);
    clearTimeout(timer);
    const took = performance.now() - t0;
    expect(how).to.equal('ended');
    expect(took, 'waited closeWaitMs').to.be.at.least(150);
    expect(completed).to.equal(true);
    expect(warns.length).to.be.greaterThan(0);
  });
});

describe('break: stop() with an owned power backend that never closes', () => {
  it('ownPower: the power backend close() hangs: stop() still ends within closeWaitMs and closes the store', async () => {
    const store = new HangingStore();
    const clock = new TestClock();
    const driver = new FakePowerDriver({ clock, password: 'pw' });
    const power = new PowerManagementService({ clock, drivers: [driver], config: { defaultPowerDrivers: ['fake'] } });
    Object.assign(power, { close: never });
    const ha = new HaService({
      providers: [new FakeProvider({ clock, power: driver })],
      clock,
      store,
      power,
      ownPower: true,
      config: { startupGrace: 0 },
    });
    await ha.start();
    await ha.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
    await ha.addResource({ ref: { type: 'host', id: 'h1' }, partition: 'c1' });
    await clock.advance(10_000);
    const took = await stopEndsAfter(clock, () => ha.stop({ closeWaitMs: 5_000 }), 60_000);
    expect(took, 'stop() ended').to.not.equal('hung');
    expect(took).to.be.at.most(5_250);
    expect(store.closed).to.equal(1);
  });
});

describe('break: stop() and a check that answers after its deadline', () => {
  it('a health check ignoring its signal answers "fail" after the deadline aborted it: nothing decided or written', async () => {
    const c = await running();
    const answers: (() => void)[] = [];
    Object.assign(c.provider, {
      healthCheck: () => new Promise((resolve) => answers.push(() => resolve({ healthy: false, reason: 'late fail' }))),
    });
    for (let i = 0; i < 600 && answers.length === 0; i++) await c.clock.advance(100);
    expect(answers.length, 'a check is running').to.be.greaterThan(0);
    const from = c.events.length;
    const took = await stopEndsAfter(c.clock, () => c.ha.stop({ deadlineMs: 1_000, closeStore: false }), 60_000);
    expect(took).to.not.equal('hung');
    const calls = c.store.calls.length;
    for (const a of answers) a();
    for (let i = 0; i < 50; i++) await flushMicrotasks();
    await c.clock.advance(60_000);
    const decided = c.events.slice(from).filter((e) => e.type === 'alert' || e.type === 'resource.transition');
    expect(decided).to.deep.equal([]);
    expect(c.store.calls.slice(calls), 'no store call after stop()').to.deep.equal([]);
    expect(
      (await c.store.loadResources()).every((r) => r.state === 'AVAILABLE'),
      'states kept',
    ).to.equal(true);
  });
});
