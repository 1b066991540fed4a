import { expect } from 'chai';
import { MemoryStateStore, type Logger, type StateStore } from '@hafence/core';
import { EventHistoryPruner } from '@hafence/core/internal';
import { TestClock, createFakeCluster } from '@hafence/testkit';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    debug: () => undefined,
    info: () => undefined,
    warn: (msg: string) => warnings.push(msg),
    error: () => undefined,
  };
}

describe('the event history is bounded (eventHistory)', () => {
  it('drops events beyond the row cap, newest kept, every interval', async () => {
    const clock = new TestClock(10 * DAY);
    const store = new MemoryStateStore();
    for (let i = 0; i < 1_500; i++) await store.appendEvent({ t: clock.now(), type: `e${i}` });
    const logger = recordingLogger();
    const pruner = new EventHistoryPruner(store, clock, logger, {
      retentionMs: DAY,
      maxRows: 1_000,
      pruneIntervalMs: HOUR,
    });
    pruner.start();
    await clock.advance(HOUR - 1);
    expect(store.events).to.have.length(1_500); // not before its interval
    await clock.advance(1);
    expect(store.events).to.have.length(1_000);
    expect(store.events[0]!.type).to.equal('e500');
    for (let i = 0; i < 10; i++) await store.appendEvent({ t: clock.now(), type: 'late' });
    await clock.advance(HOUR);
    expect(store.events).to.have.length(1_000);
    expect(store.events.at(-1)!.type).to.equal('late');
    await pruner.stop();
    for (let i = 0; i < 10; i++) await store.appendEvent({ t: clock.now(), type: 'after-stop' });
    await clock.advance(5 * HOUR);
    expect(store.events).to.have.length(1_010); // stopped: no more pruning
    expect(logger.warnings).to.deep.equal([]);
  });

  it('a store that refuses a prune is logged and tried again at the next turn', async () => {
    const clock = new TestClock(10 * DAY);
    const store = new MemoryStateStore();
    let refuse = true;
    const flaky = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'pruneEvents' && refuse) return () => Promise.reject(new Error('disk I/O error'));
        return Reflect.get(target, prop, receiver) as unknown;
      },
    }) as StateStore;
    for (let i = 0; i < 2_000; i++) await store.appendEvent({ t: clock.now() - 2 * DAY, type: 'old' });
    const logger = recordingLogger();
    const pruner = new EventHistoryPruner(flaky, clock, logger, {
      retentionMs: DAY,
      maxRows: 1_000,
      pruneIntervalMs: HOUR,
    });
    pruner.start();
    await clock.advance(HOUR);
    expect(logger.warnings).to.deep.equal(['event history not pruned']);
    expect(store.events).to.have.length(2_000);
    refuse = false;
    await clock.advance(HOUR);
    expect(store.events).to.have.length(0); // every one older than the retention
    await pruner.stop();
  });

  it('the service prunes its history in the background: nothing older than the retention stays', async () => {
    const store = new MemoryStateStore();
    const c = await createFakeCluster({
      hosts: 3,
      store,
      config: { startupGrace: 0, eventHistory: { retentionDays: 1, pruneInterval: '1h' } },
    });
    try {
      await c.clock.advance(10 * 60_000);
      const first = store.events[0]!.t;
      c.provider.host('h2').crashed = true;
      for (let h = 0; h < 26; h++) await c.clock.advance(HOUR);
      c.provider.host('h3').crashed = true; // recent events, which stay
      await c.clock.advance(HOUR);
      expect(store.events.some((e) => e.t > c.clock.now() - HOUR)).to.equal(true);
      expect(store.events.every((e) => e.t >= c.clock.now() - DAY - HOUR)).to.equal(true);
      expect(store.events[0]!.t).to.be.greaterThan(first);
    } finally {
      await c.close();
    }
  });
});
