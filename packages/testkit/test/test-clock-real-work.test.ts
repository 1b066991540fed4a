import { expect } from 'chai';
import { setTimeout as realSleep } from 'node:timers/promises';
import { delay } from '@hafence/core';
import { TestClock } from '@hafence/testkit';

/** A "health check": real I/O (`ioMs` of real time) raced against a 5 s virtual timeout. */
async function check(clock: TestClock, ioMs: number, tracked: boolean): Promise<string> {
  const timeout = new AbortController();
  const io = realSleep(ioMs).then(() => 'answered');
  const timedOut = delay(clock, 5_000, timeout.signal).then(
    () => 'timed out',
    () => 'cancelled',
  );
  const result = await Promise.race([tracked ? clock.track(io) : io, timedOut]);
  timeout.abort();
  return result;
}

describe('TestClock.track: time skipping that waits for real work', () => {
  it('untracked real I/O is starved by a long advance (the problem)', async () => {
    const clock = new TestClock();
    const result = check(clock, 100, false);
    await clock.advance(30 * 60_000);
    expect(await result).to.equal('timed out');
  });

  it('tracked real I/O: virtual time follows real time while it runs, then jumps', async () => {
    const clock = new TestClock();
    const t0 = clock.now();
    const result = check(clock, 100, true);
    await clock.advance(30 * 60_000);
    expect(await result).to.equal('answered');
    expect(clock.now() - t0).to.equal(30 * 60_000);
    expect(clock.realWorkInFlight).to.equal(0);
  });

  it('tracked I/O that really outlasts the virtual timeout still times out, after about as much real time', async () => {
    const clock = new TestClock();
    const started = performance.now();
    const hung = clock.track(
      realSleep(60_000, undefined, { signal: AbortSignal.timeout(1_500) }).catch(() => 'aborted'),
    );
    const timeout = delay(clock, 300, undefined).then(() => 'timed out');
    await clock.advance(1_000);
    expect(await timeout).to.equal('timed out');
    const real = performance.now() - started;
    expect(real).to.be.greaterThan(250).and.lessThan(3_000);
    await hung;
  });
});
