import { expect } from 'chai';
import { HaService, InvalidRequestError, MemoryStateStore, PowerManagementService, type HaEvent } from '@hafence/core';
import { FakePowerDriver, FakeProvider, TestClock, flushMicrotasks, type FakeBmcFault } from '@hafence/testkit';
import { startOneHost } from './helpers/one-host.js';
import { ScriptedDriver } from './power-service-helpers.js';

class ClosingStore extends MemoryStateStore {
  closed = 0;
  async close(): Promise<void> {
    this.closed++;
  }
}

/** A service with one host whose checks take `latencyMs`; returns once a health check runs. */
async function running(latencyMs: number) {
  const clock = new TestClock();
  const provider = new FakeProvider({ clock, latencyMs });
  let shutdowns = 0;
  Object.assign(provider, {
    shutdown: async () => {
      shutdowns++;
    },
  });
  const store = new ClosingStore();
  const ha = new HaService({ providers: [provider], clock, store });
  await ha.start();
  await ha.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
  await ha.addResource({ ref: { type: 'host', id: 'h1' }, partition: 'c1' });
  for (let i = 0; i < 600 && !provider.calls.some((c) => c.endedAt === undefined); i++) await clock.advance(100);
  const call = provider.calls.find((c) => c.endedAt === undefined);
  expect(call, 'a health check is running').to.not.equal(undefined);
  return { clock, provider, store, ha, call: call!, shutdowns: () => shutdowns };
}

describe('HaService.stop', () => {
  it('lets running work end within the deadline, then closes the providers and the store', async () => {
    const { clock, store, ha, call, shutdowns } = await running(5_000);
    let done = false;
    const stopped = ha.stop({ deadlineMs: 10_000 }).then(() => (done = true));
    await clock.advance(4_000);
    expect(done).to.equal(false);
    expect(shutdowns()).to.equal(0);
    await clock.advance(1_500);
    await stopped;
    expect(call.aborted).to.equal(false);
    expect(call.endedAt).to.be.a('number');
    expect(shutdowns()).to.equal(1);
    expect(store.closed).to.equal(1);
    expect(clock.now() - call.startedAt).to.be.lessThan(10_000);
  });

  it('aborts work that outlasts the deadline, at the deadline', async () => {
    const { clock, ha, call } = await running(60_000);
    const t0 = clock.now();
    let done = false;
    const stopped = ha.stop({ deadlineMs: 10_000 }).then(() => (done = true));
    await clock.advance(9_900);
    expect(done).to.equal(false);
    expect(call.aborted).to.equal(false);
    await clock.advance(200);
    await stopped;
    expect(call.aborted).to.equal(true);
    expect(clock.now() - t0).to.be.lessThan(10_200);
  });

  it('without a deadline aborts at once; keeps the store open when asked; a second stop is the same stop', async () => {
    const { ha, call, store, shutdowns } = await running(60_000);
    const first = ha.stop({ closeStore: false, closeProviders: false });
    expect(ha.stop()).to.equal(first);
    await first;
    expect(call.aborted).to.equal(true);
    expect(store.closed).to.equal(0);
    expect(shutdowns()).to.equal(0);
  });

  it('ends at once when a power read made outside a job hangs on its controller; the stop intent stays for the next start', async () => {
    // Regression (property seed 1887644259): a status read of a resumed stop's intent (or of how a recovery left the
    // host) is no job, so closing the scheduler did not abort it; on a hung controller stop() waited for its timeout.
    const clock = new TestClock();
    const store = new ClosingStore();
    const start = async (fault: FakeBmcFault) => {
      const driver = new FakePowerDriver({ clock, password: 'pw' });
      driver.host('h1').fault = fault;
      const power = new PowerManagementService({ clock, drivers: [driver], config: { defaultPowerDrivers: ['fake'] } });
      const ha = new HaService({ providers: [new FakeProvider({ clock, power: driver })], clock, store, power });
      const events: HaEvent[] = [];
      ha.events$.subscribe((e) => events.push(e));
      await startOneHost(ha);
      return { ha, power, driver, events };
    };
    const first = await start('none');
    await first.ha.stop({ closeStore: false });
    await first.power.close();
    await store.putIntent({ resource: 'host:h1', command: 'off', at: clock.now() });

    const second = await start('hang');
    await clock.advance(10); // the reconcile's status read is at the controller, which never answers
    let done = false;
    const stopped = second.ha.stop({ closeStore: false }).then(() => (done = true));
    for (let i = 0; i < 50 && !done; i++) await flushMicrotasks();
    expect(done, 'stop() ended without the clock moving').to.equal(true);
    await stopped;
    await second.power.close();
    expect((await store.listIntents()).map((i) => i.resource)).to.deep.equal(['host:h1']);
    expect(second.events.filter((e) => e.type === 'alert').map((e) => e.type === 'alert' && e.code)).to.deep.equal([]);
  });

  it('ends at once while a self-fence lease read that ignores its signal is in hand (controller lost)', async () => {
    const clock = new TestClock();
    const driver = new FakePowerDriver({ clock, password: 'pw' });
    const power = new PowerManagementService({
      clock,
      drivers: [driver],
      config: { defaultPowerDrivers: ['fake'], powerSyncInterval: 1_000 },
    });
    const provider = new FakeProvider({ clock, power: driver });
    let leaseReads = 0;
    Object.assign(provider, {
      selfFenceLease: () => {
        leaseReads++;
        return new Promise(() => undefined); // a provider that never answers and ignores the abort
      },
    });
    const ha = new HaService({ providers: [provider], clock, power, store: new ClosingStore() });
    const warnings: string[] = [];
    await startOneHost(ha);
    ha.events$.subscribe((e) => e.type === 'alert' && warnings.push(e.code));
    power.startSync();
    await clock.advance(5_000);
    driver.host('h1').fault = 'down'; // three unanswered reads: the controller is UNKNOWN, the lease is read
    for (let i = 0; i < 100 && leaseReads === 0; i++) await clock.advance(1_000);
    expect(leaseReads, 'the power rule read the lease').to.equal(1);
    power.stopSync();
    let done = false;
    const stopped = ha.stop().then(() => (done = true));
    for (let i = 0; i < 50 && !done; i++) await flushMicrotasks();
    expect(done, 'stop() ended without the clock moving').to.equal(true);
    await stopped;
    await power.close();
    expect(warnings, 'no alert from a read that stopping aborted').to.not.include.members(['not-fenceable']);
  });

  it('bad options reject with a typed error naming the option, and stop nothing', async () => {
    const { ha, call, store } = await running(60_000);
    for (const options of [{ deadlineMs: -1 }, { deadlineMs: Number.NaN }, { closeWaitMs: Infinity }]) {
      const err = await ha.stop(options).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(InvalidRequestError);
      expect((err as Error).message).to.include(Object.keys(options)[0]);
    }
    expect(call.aborted, 'the running check was not touched').to.equal(false);
    await ha.stop();
    expect(call.aborted).to.equal(true);
    expect(store.closed).to.equal(1);
  });

  it('no check starts after stop began', async () => {
    const { clock, provider, ha } = await running(5_000);
    const stopped = ha.stop({ deadlineMs: 60_000 });
    const before = provider.calls.length;
    await clock.advance(120_000);
    await stopped;
    expect(provider.calls.length).to.equal(before);
  });
});

describe('HaService joinPowerEvents', () => {
  it('delivers the power events in events$ in the order a subscriber to both streams sees them, and not with it off', async () => {
    const run = async (join: boolean) => {
      const clock = new TestClock();
      const power = new PowerManagementService({
        clock,
        drivers: [new ScriptedDriver('fake')],
        config: { powerSyncInterval: 1_000 },
      });
      const ha = new HaService({ providers: [new FakeProvider({ clock })], clock, power, joinPowerEvents: join });
      const joined: HaEvent[] = [];
      const both: HaEvent[] = [];
      ha.events$.subscribe((e) => joined.push(e));
      ha.events$.subscribe((e) => both.push(e));
      power.events$.subscribe((e) => both.push(e));
      await startOneHost(ha);
      power.startSync();
      await clock.advance(30_000);
      power.stopSync();
      await ha.stop();
      await power.close();
      return { joined, both };
    };
    const on = await run(true);
    expect(on.joined.some((e) => e.type === 'power.transition')).to.equal(true);
    // `both` got every power event twice when joined (once through each stream): drop the
    // second copy and the two orders must be the same.
    const once = on.both.filter((e, i) => !(e.type.startsWith('power.') && on.both.indexOf(e) !== i));
    expect(on.joined).to.deep.equal(once);
    const off = await run(false);
    expect(off.joined.some((e) => e.type.startsWith('power.'))).to.equal(false);
  });
});
