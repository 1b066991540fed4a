import { expect } from 'chai';
import { firstValueFrom, interval, take, timer, toArray } from 'rxjs';
import { AbortedError, clockScheduler, delay } from '@hafence/core';
import { withClockSignal } from '@hafence/core/internal';
import { TestClock, TestClockOptionsError, parseTestClockMode, testClockFromEnv } from '@hafence/testkit';

/** One fired timer: when it was set, its deadline, and `now()` inside its callback. */
interface Fired {
  readonly id: number;
  readonly setAt: number;
  readonly deadline: number;
  readonly at: number;
}

/** Sets a pseudo-random mix of timers, some of them from inside callbacks, and runs them all. */
async function workload(clock: TestClock): Promise<Fired[]> {
  const fired: Fired[] = [];
  let id = 0;
  const set = (ms: number, depth: number) => {
    const me = ++id;
    const setAt = clock.now();
    clock.setTimeout(() => {
      fired.push({ id: me, setAt, deadline: setAt + ms, at: clock.now() });
      if (depth < 2) for (const d of [0, 1, 7, 500]) set(d, depth + 1);
    }, ms);
  };
  for (let i = 0; i < 60; i++) set((i * 7919) % 5000, 0);
  await clock.runUntilIdle();
  return fired;
}

describe('TestClock', () => {
  describe('default mode (timers on time)', () => {
    it('fires every timer exactly at its deadline, in (deadline, creation) order', async () => {
      const clock = new TestClock(1000);
      const fired = await workload(clock);
      expect(clock.jitter).to.equal(undefined);
      expect(fired.length).to.be.greaterThan(60);
      for (const f of fired) expect(f.at, `timer ${f.id}`).to.equal(f.deadline);
      const order = fired.map((f) => f.at);
      expect(order).to.deep.equal([...order].sort((x, y) => x - y));
    });

    it('advanceTo stops exactly at the target and leaves later timers pending', async () => {
      const clock = new TestClock(0);
      const seen: number[] = [];
      clock.setTimeout(() => seen.push(clock.now()), 10);
      clock.setTimeout(() => seen.push(clock.now()), 11);
      await clock.advanceTo(10);
      expect(seen).to.deep.equal([10]);
      expect(clock.now()).to.equal(10);
      expect(clock.pending).to.equal(1);
    });
  });

  describe('jitter mode', () => {
    const jittery = (seed: number, start = 1000) => new TestClock(start, { jitter: { seed } });

    it('fires some timers early (now() before the deadline) and some late, within -2..+50 ms', async () => {
      const fired = await workload(jittery(7));
      const offsets = fired.map((f) => f.at - f.deadline);
      expect(offsets.filter((o) => o < 0).length, 'early timers').to.be.greaterThan(10);
      expect(offsets.filter((o) => o > 0).length, 'late timers').to.be.greaterThan(10);
      expect(Math.min(...offsets)).to.be.at.least(-2);
      expect(Math.max(...offsets)).to.be.at.most(50);
    });

    it('never goes backwards in time, and never fires a timer before it was set', async () => {
      const fired = await workload(jittery(11));
      for (let i = 1; i < fired.length; i++)
        expect(fired[i]!.at, `timer ${fired[i]!.id}`).to.be.at.least(fired[i - 1]!.at);
      for (const f of fired) expect(f.at, `timer ${f.id}`).to.be.at.least(f.setAt);
    });

    it('fires zero-delay timers at the time they were set or later, never before', async () => {
      const clock = jittery(3, 0);
      const seen: Array<[number, number]> = [];
      for (let i = 0; i < 50; i++) {
        const setAt = clock.now();
        clock.setTimeout(() => seen.push([setAt, clock.now()]), 0);
        await clock.advance(i % 3);
      }
      await clock.runUntilIdle();
      expect(seen).to.have.length(50);
      for (const [setAt, at] of seen) expect(at).to.be.at.least(setAt);
    });

    it('runs a zero-delay timer after every timer already due when it was set (it fires no earlier than its setting)', async () => {
      let overlaps = 0;
      for (let seed = 0; seed < 100; seed++) {
        const clock = new TestClock(0, { jitter: { seed, earlyMs: 5, lateMs: 0 } });
        const order: string[] = [];
        let zSetAt = -1;
        let yAt = -1;
        clock.setTimeout(() => {
          order.push('x');
          zSetAt = clock.now();
          clock.setTimeout(() => order.push('z'), 0);
        }, 10);
        clock.setTimeout(() => {
          order.push('y');
          yAt = clock.now();
        }, 10);
        await clock.runUntilIdle();
        if (yAt <= zSetAt) {
          overlaps++;
          expect(order, `seed ${seed}`).to.deep.equal(['x', 'y', 'z']);
        }
      }
      expect(overlaps, 'cases where y was already due when z was set').to.be.greaterThan(10);
    });

    it('is deterministic for a seed, and the seed matters', async () => {
      const a = await workload(jittery(5));
      expect(await workload(jittery(5))).to.deep.equal(a);
      expect(await workload(jittery(6))).to.not.deep.equal(a);
    });

    it('keeps timers of one delay in the order they were set (as Node does)', async () => {
      const clock = jittery(9, 0);
      const order: number[] = [];
      for (let i = 0; i < 40; i++) {
        clock.setTimeout(() => order.push(i), 1000);
        await clock.advance(1);
      }
      await clock.runUntilIdle();
      expect(order).to.deep.equal([...Array(40).keys()]);
    });

    it('advanceTo fires exactly the timers whose firing time is at most the target, then sits at the target', async () => {
      for (let seed = 0; seed < 20; seed++) {
        const clock = jittery(seed, 0);
        const seen: number[] = [];
        for (let i = 0; i < 20; i++) clock.setTimeout(() => seen.push(clock.now()), 100);
        await clock.advanceTo(100);
        expect(clock.now()).to.equal(100);
        for (const at of seen) expect(at).to.be.at.most(100);
        expect(seen.length + clock.pending).to.equal(20);
        await clock.advance(50);
        expect(clock.pending, `seed ${seed}: all fired by deadline + lateMs`).to.equal(0);
        for (const at of seen) expect(at).to.be.within(98, 150);
      }
    });

    it('honours earlyMs and lateMs', async () => {
      const clock = new TestClock(0, { jitter: { seed: 1, earlyMs: 0, lateMs: 0 } });
      const fired = await workload(clock);
      for (const f of fired) expect(f.at).to.equal(f.deadline);
      const wide = await workload(new TestClock(0, { jitter: { seed: 1, earlyMs: 10, lateMs: 500 } }));
      const offsets = wide.map((f) => f.at - f.deadline);
      expect(Math.min(...offsets)).to.be.within(-10, -3);
      expect(Math.max(...offsets)).to.be.within(51, 500);
    });

    it('rejects invalid jitter options with a typed error naming the field', () => {
      const bad = (jitter: { seed: number; earlyMs?: number; lateMs?: number }, field: string) => {
        const err = (() => {
          try {
            new TestClock(0, { jitter });
          } catch (e) {
            return e;
          }
          return undefined;
        })();
        expect(err).to.be.instanceOf(TestClockOptionsError);
        expect((err as TestClockOptionsError).code).to.equal('HAF6003');
        expect((err as TestClockOptionsError).field).to.equal(field);
      };
      bad({ seed: 1.5 }, 'jitter.seed');
      bad({ seed: 1, earlyMs: -1 }, 'jitter.earlyMs');
      bad({ seed: 1, lateMs: Number.NaN }, 'jitter.lateMs');
    });
  });

  describe('the core timer helpers under the jitter clock', () => {
    it('clockScheduler runs rxjs timer and interval, each tick within -2..+50 ms of its period', async () => {
      const clock = new TestClock(0, { jitter: { seed: 4 } });
      const s = clockScheduler(clock);
      const t = firstValueFrom(timer(10_000, s).pipe(toArray()));
      const ticks = firstValueFrom(interval(1000, s).pipe(take(5), toArray()));
      const times: number[] = [];
      const sub = interval(1000, s)
        .pipe(take(5))
        .subscribe(() => times.push(clock.now()));
      await clock.advance(11_000);
      expect(await t).to.deep.equal([0]);
      expect(await ticks).to.deep.equal([0, 1, 2, 3, 4]);
      sub.unsubscribe();
      expect(times).to.have.length(5);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).to.be.within(1000 - 2, 1000 + 50);
    });

    it('delay resolves near its deadline and withClockSignal aborts near its timeout', async () => {
      const clock = new TestClock(0, { jitter: { seed: 8 } });
      let resolvedAt = -1;
      const waited = delay(clock, 5000).then(() => (resolvedAt = clock.now()));
      const timedOut = withClockSignal(
        clock,
        3000,
        'probe',
        (signal) =>
          new Promise<never>((_, reject) => {
            signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
          }),
      ).catch((e: unknown) => [e, clock.now()] as const);
      await clock.advance(6000);
      await waited;
      expect(resolvedAt).to.be.within(5000 - 2, 5000 + 50);
      const [err, abortedAt] = (await timedOut) as readonly [unknown, number];
      expect(err).to.be.instanceOf(AbortedError);
      expect(abortedAt).to.be.within(3000 - 2, 3000 + 50);
      // A settled withClockSignal clears its timer; an aborted delay clears its own.
      const ac = new AbortController();
      const cancelled = delay(clock, 1000, ac.signal).catch((e: unknown) => e);
      ac.abort(new AbortedError('stop'));
      expect(await cancelled).to.be.instanceOf(AbortedError);
      expect(await withClockSignal(clock, 1000, 'quick', () => Promise.resolve(7))).to.equal(7);
      expect(clock.pending).to.equal(0);
    });
  });

  describe('testClockFromEnv / parseTestClockMode (HAFENCE_TEST_CLOCK)', () => {
    it('reads default, jitter and jitter:<seed>', () => {
      expect(testClockFromEnv(0, {}).jitter).to.equal(undefined);
      expect(testClockFromEnv(0, { HAFENCE_TEST_CLOCK: 'default' }).jitter).to.equal(undefined);
      expect(testClockFromEnv(0, { HAFENCE_TEST_CLOCK: 'jitter' }).jitter).to.deep.equal({
        seed: 1,
        earlyMs: 2,
        lateMs: 50,
      });
      expect(testClockFromEnv(5, { HAFENCE_TEST_CLOCK: 'jitter:42' }).jitter).to.deep.equal({
        seed: 42,
        earlyMs: 2,
        lateMs: 50,
      });
      expect(testClockFromEnv(5, {}).now()).to.equal(5);
    });

    it('rejects anything else with a typed error naming the variable', () => {
      for (const text of ['jiter', 'jitter:', 'jitter:x', 'jitter:1.5', 'fast']) {
        expect(() => parseTestClockMode(text), text)
          .to.throw(TestClockOptionsError)
          .with.property('field', 'HAFENCE_TEST_CLOCK');
      }
    });
  });
});
