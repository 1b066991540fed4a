import { expect } from 'chai';
import { HaService, MemoryStateStore, PowerManagementService, type HaEvent } from '@hafence/core';
import { FakePowerDriver, FakeProvider, TestClock, flushMicrotasks } from '@hafence/testkit';
import { HangingStore, stopsWithoutClock } from './helpers/hanging-store.js';
import { startOneHost } from './helpers/one-host.js';
import { threeHosts } from './helpers/three-hosts.js';

/**
 * A store call that never answers is waited for `closeWaitMs` (30 s by default) on the clock, then left behind:
 * stop() has not ended before the clock moves, and has ended once it moved 30 s.
 */
async function stopsAfterCloseWait(clock: TestClock, stop: () => Promise<void>): Promise<'ended' | 'hung' | 'early'> {
  let done = false;
  const stopped = stop().then(() => (done = true));
  for (let i = 0; i < 200 && !done; i++) await flushMicrotasks();
  if (done) return 'early';
  await clock.advance(29_000);
  if (done) return 'early';
  await clock.advance(1_000);
  return stopsWithoutClock(() => stopped.then(() => undefined));
}

/** The three-host service, by default with ownership (the store coordinates). */
const owned = (store: HangingStore, ownership = true) => threeHosts(store, { ownership });

describe('break: HaService.stop() with ownership store calls that never settle', () => {
  for (const [method, when] of [
    ['acquireLease', 'before the first lease'],
    ['listLeases', 'before the first lease'],
    ['renewLease', 'after the lease was held'],
    ['releaseLease', 'at stop (releaseLeases default true): stop() ends after closeWaitMs'],
    ['saveResourceWithEvents', 'after the lease was held (a transition being written): stop() ends after closeWaitMs'],
  ] as const) {
    it(`${method} hangs ${when}`, async () => {
      const store = new HangingStore();
      if (when.startsWith('before')) store.hang.add(method);
      const c = await owned(store);
      await c.clock.advance(when.startsWith('before') ? 10_000 : 60_000);
      if (!when.startsWith('before')) {
        expect(c.ha.list().length, 'the partition runs here').to.equal(3);
        store.hang.add(method);
        if (method.startsWith('save')) c.provider.host('h2').crashed = true;
        if (method !== 'releaseLease')
          for (let i = 0; i < 600 && store.hung.length === 0; i++) await c.clock.advance(100);
      }
      if (method !== 'releaseLease') expect(store.hung, 'the hang was reached').to.include(method);
      const from = c.events.length;
      // Calls made before stop() began end as usual; one still hanging at stop() is waited for closeWaitMs.
      const how = when.includes('closeWaitMs')
        ? await stopsAfterCloseWait(c.clock, () => c.ha.stop())
        : await stopsWithoutClock(() => c.ha.stop());
      expect(how, `stop() ended (hung calls: ${store.hung.join(', ')})`).to.equal('ended');
      expect(c.completed(), 'events$ completed').to.equal(true);
      expect(c.shutdowns(), 'providers shut down').to.equal(1);
      expect(store.closed, 'store closed').to.equal(1);
      const decided = c.events.slice(from).filter((e) => e.type === 'alert' || e.type === 'resource.transition');
      expect(decided, 'nothing decided after stop began').to.deep.equal([]);
    });
  }
});

describe('break: HaService.stop() around start()', () => {
  it('stop() while start() waits for a store that never answers', async () => {
    const store = new HangingStore();
    store.hang.add('loadResources');
    store.hang.add('listIntents');
    const clock = new TestClock();
    const ha = new HaService({ providers: [new FakeProvider({ clock })], clock, store });
    const starting = ha.start().then(
      () => 'started',
      () => 'start failed',
    );
    await flushMicrotasks();
    expect(store.hung.length, 'start is waiting on the store').to.be.greaterThan(0);
    const how = await stopsWithoutClock(() => ha.stop());
    expect(how).to.equal('ended');
    void starting;
  });

  it('stop() before start(): ends, and start() afterwards does not bring it back to life', async () => {
    const clock = new TestClock();
    const provider = new FakeProvider({ clock });
    const ha = new HaService({ providers: [provider], clock, store: new MemoryStateStore() });
    expect(await stopsWithoutClock(() => ha.stop())).to.equal('ended');
    let started: string;
    try {
      await ha.start();
      await ha.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
      await ha.addResource({ ref: { type: 'host', id: 'h1' }, partition: 'c1' });
      started = 'started';
    } catch {
      started = 'refused';
    }
    await clock.advance(120_000);
    if (started === 'started') expect(provider.calls.length, 'no check after stop').to.equal(0);
  });

  it('a resumed intent reconciled at start while the controller is down and the lease read never answers', async () => {
    const clock = new TestClock();
    const store = new HangingStore();
    await store.putIntent({ resource: 'host:h1', command: 'off', at: clock.now() });
    const driver = new FakePowerDriver({ clock, password: 'pw' });
    driver.host('h1').fault = 'down';
    const power = new PowerManagementService({ clock, drivers: [driver], config: { defaultPowerDrivers: ['fake'] } });
    const provider = new FakeProvider({ clock, power: driver });
    let leaseReads = 0;
    Object.assign(provider, {
      selfFenceLease: () => {
        leaseReads++;
        return new Promise(() => undefined);
      },
    });
    const ha = new HaService({ providers: [provider], clock, store, power, config: { startupGrace: 0 } });
    const events: HaEvent[] = [];
    ha.events$.subscribe((e) => events.push(e));
    await startOneHost(ha);
    for (let i = 0; i < 200 && leaseReads === 0; i++) await clock.advance(1_000);
    const from = events.length;
    const how = await stopsWithoutClock(() => ha.stop({ closeStore: false }));
    await power.close();
    expect(how).to.equal('ended');
    expect(
      (await store.listIntents()).map((i) => i.resource),
      'the intent stays',
    ).to.deep.equal(['host:h1']);
    expect(events.slice(from).filter((e) => e.type === 'alert' || e.type === 'resource.transition')).to.deep.equal([]);
    if (process.env.BREAK_VERBOSE) console.log('lease reads', leaseReads);
  });
});

describe('break: HaService.stop() with a state write that never settles', () => {
  for (const ownership of [false, true]) {
    for (const deadlineMs of [undefined, 10_000]) {
      it(`a transition's saveResourceWithEvents hangs (ownership ${String(ownership)}, deadline ${String(deadlineMs)})`, async () => {
        const store = new HangingStore();
        const c = await owned(store, ownership);
        await c.clock.advance(60_000);
        expect(c.ha.list().length, 'the partition runs here').to.equal(3);
        store.hang.add('saveResourceWithEvents');
        c.provider.host('h2').crashed = true;
        for (let i = 0; i < 600 && store.hung.length === 0; i++) await c.clock.advance(100);
        expect(store.hung).to.include('saveResourceWithEvents');
        let how: 'ended' | 'hung' | 'early';
        if (deadlineMs === undefined) how = await stopsAfterCloseWait(c.clock, () => c.ha.stop());
        else {
          // With a deadline the clock may move: past the deadline (and well beyond), stop() must have ended.
          let done = false;
          const stopped = c.ha.stop({ deadlineMs }).then(() => (done = true));
          await c.clock.advance(deadlineMs * 30);
          how = await stopsWithoutClock(() => stopped.then(() => undefined));
          if (!done) how = 'hung';
        }
        expect(how, 'stop() ended').to.equal('ended');
        expect(c.completed(), 'events$ completed').to.equal(true);
      });
    }
  }
});
