import { expect } from 'chai';
import { MemoryStateStore } from '@hafence/core';
import { FenceBudget } from '@hafence/core/internal';
import { TestClock } from '@hafence/testkit';

describe('FenceBudget', () => {
  const entry = (resource: string) => ({ partition: 'c1', resource, command: 'off' as const });

  it('a held stop goes as soon as a short window frees its slot, not a minute later', async () => {
    const clock = new TestClock();
    const halts: string[] = [];
    const budget = new FenceBudget(new MemoryStateStore(), clock, (scope) => halts.push(scope));
    const limits = { perPartition: 1, global: 10, windowMs: 10_000 };
    const signal = new AbortController().signal;
    await budget.take(entry('host:h1'), limits, signal);
    let sent = -1;
    const held = budget.take(entry('host:h2'), limits, signal).then(() => (sent = clock.now()));
    await clock.advance(1);
    expect(halts).to.deep.equal(['c1']);
    const t0 = clock.now();
    await clock.advance(20_000);
    await held;
    expect(sent - t0, 'the window (10 s) plus at most a quarter of it').to.be.at.most(12_500);
  });

  it('with the default hour-long window it looks again every minute', async () => {
    const clock = new TestClock();
    const store = new MemoryStateStore();
    const budget = new FenceBudget(store, clock, () => undefined);
    const limits = { perPartition: 1, global: 10, windowMs: 3_600_000 };
    const signal = new AbortController().signal;
    await budget.take(entry('host:h1'), limits, signal);
    const takeStop = store.takeStop.bind(store);
    let tries = 0;
    store.takeStop = (...args) => ((tries += 1), takeStop(...args));
    const held = budget.take(entry('host:h2'), limits, signal);
    await clock.advance(10 * 60_000);
    expect(tries).to.be.within(10, 12);
    await clock.advance(60 * 60_000);
    await held;
  });
});
