import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { TestClock } from '@hafence/testkit';
import { systemClock, type Clock, type TimerHandle } from '@hafence/core';
import { DueQueue, reusableTimer } from '@hafence/core/internal';

/**
 * A base clock over `clock` that counts the runtime timers set and can make each fire up to `earlyMs` early (but, as
 * in Node, never at the instant it was set).
 */
function countingBase(clock: TestClock, earlyMs = 0) {
  let set = 0;
  let live = 0;
  const handles = new Set<TimerHandle>();
  const base: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'> = {
    now: () => clock.now(),
    setTimeout: (fn, ms) => {
      set++;
      live++;
      const h = clock.setTimeout(
        () => {
          handles.delete(h);
          live--;
          fn();
        },
        Math.max(Math.min(ms, 1), ms - earlyMs),
      );
      handles.add(h);
      return h;
    },
    clearTimeout: (h) => {
      if (handles.delete(h)) live--;
      clock.clearTimeout(h);
    },
  };
  return {
    base,
    get set() {
      return set;
    },
    get live() {
      return live;
    },
  };
}

describe('DueQueue (many reusable timers on one runtime timer)', () => {
  it('fires each armed timer once, at its due time, in (due, arming order); one runtime timer at a time', async () => {
    const clock = new TestClock();
    const b = countingBase(clock);
    const q = new DueQueue(b.base);
    const fired: string[] = [];
    const t0 = clock.now();
    const timers = ['a', 'b', 'c', 'd'].map((name) => q.timer(() => fired.push(`${name}@${clock.now() - t0}`)));
    timers[0]!.arm(30);
    timers[1]!.arm(10);
    timers[2]!.arm(30);
    timers[3]!.arm(10);
    expect(b.live).to.equal(1);
    await clock.advance(9);
    expect(fired).to.deep.equal([]);
    await clock.advance(1);
    expect(fired).to.deep.equal(['b@10', 'd@10']);
    expect(b.live).to.equal(1); // re-armed for the next entry
    await clock.advance(100);
    expect(fired).to.deep.equal(['b@10', 'd@10', 'a@30', 'c@30']);
    expect(b.live).to.equal(0);
    expect(q.size).to.equal(0);
  });

  it('re-arming moves a timer; cancel removes it; cancelling the head does not fire anything early', async () => {
    const clock = new TestClock();
    const q = new DueQueue(countingBase(clock).base);
    const fired: string[] = [];
    const a = q.timer(() => fired.push('a'));
    const b = q.timer(() => fired.push('b'));
    a.arm(10);
    b.arm(20);
    a.arm(50); // moved behind b
    b.cancel();
    b.cancel(); // harmless twice
    await clock.advance(49);
    expect(fired).to.deep.equal([]);
    await clock.advance(1);
    expect(fired).to.deep.equal(['a']);
    a.cancel(); // after firing: harmless
    await clock.advance(1_000);
    expect(fired).to.deep.equal(['a']);
  });

  it('due times that share a wheel slot (16,384 ms apart) and far ones (an hour) each fire at their own time', async () => {
    const clock = new TestClock();
    const q = new DueQueue(countingBase(clock).base);
    const t0 = clock.now();
    const at: [string, number][] = [];
    const mk = (name: string) => q.timer(() => at.push([name, clock.now() - t0]));
    const far = mk('far');
    far.arm(3_600_000);
    mk('b').arm(10 + 2 * 16_384);
    mk('a').arm(10 + 16_384);
    mk('now').arm(10);
    const moved = mk('moved');
    moved.arm(10 + 16_384);
    moved.arm(10 + 3 * 16_384); // out of a shared slot into another
    await clock.advance(4 * 3_600_000);
    expect(at).to.deep.equal([
      ['now', 10],
      ['a', 16_394],
      ['b', 32_778],
      ['moved', 49_162],
      ['far', 3_600_000],
    ]);
    expect(q.size).to.equal(0);
  });

  it('cancelling the last armed timer drops the runtime timer (a stopped service keeps no process alive)', async () => {
    const clock = new TestClock();
    const b = countingBase(clock);
    const q = new DueQueue(b.base);
    const x = q.timer(() => undefined);
    const y = q.timer(() => undefined);
    x.arm(10_000);
    y.arm(5_000);
    y.cancel();
    expect(b.live).to.equal(1); // x still armed
    x.cancel();
    expect(b.live).to.equal(0);
    x.arm(20);
    expect(b.live).to.equal(1);
  });

  it('a Node process whose only system-clock timer was cancelled exits at once', async () => {
    const started = Date.now();
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = execFile(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          "import { systemClock } from '@hafence/core'; const t = systemClock.timer(() => process.exit(3)); t.arm(60000); t.cancel();",
        ],
        { cwd: dirname(fileURLToPath(import.meta.url)), timeout: 20_000 },
        (error) => (error && error.code === undefined ? reject(error) : undefined),
      );
      child.on('exit', (c) => resolve(c));
    });
    expect(code).to.equal(0);
    expect(Date.now() - started).to.be.below(15_000);
  });

  it('arm(Infinity) never runs (never before its time); NaN and negative delays are due now', async () => {
    const clock = new TestClock();
    const b = countingBase(clock);
    const q = new DueQueue(b.base);
    const fired: string[] = [];
    q.timer(() => fired.push('infinity')).arm(Number.POSITIVE_INFINITY);
    q.timer(() => fired.push('nan')).arm(Number.NaN);
    q.timer(() => fired.push('negative')).arm(-5);
    q.timer(() => fired.push('minus-infinity')).arm(Number.NEGATIVE_INFINITY);
    await clock.advance(0);
    expect(fired).to.deep.equal(['nan', 'negative', 'minus-infinity']);
    await clock.advance(400 * 24 * 3_600_000); // 400 days
    expect(fired).to.deep.equal(['nan', 'negative', 'minus-infinity']);
    expect(q.size).to.equal(1);
  });

  it('a runtime timer that fires early runs nothing before its time: it re-arms for the rest', async () => {
    const clock = new TestClock();
    const b = countingBase(clock, 3); // every runtime timer fires 3 ms early
    const q = new DueQueue(b.base);
    const t0 = clock.now();
    const at: number[] = [];
    q.timer(() => at.push(clock.now() - t0)).arm(10);
    await clock.advance(100);
    expect(at).to.deep.equal([10]);
    expect(b.set).to.be.greaterThan(1);
  });

  it('a timer re-armed at 0 from its own callback waits for the next runtime timer (no starving loop)', async () => {
    const clock = new TestClock();
    const b = countingBase(clock);
    const q = new DueQueue(b.base);
    let runs = 0;
    const t = q.timer(() => {
      runs++;
      t.arm(0);
    });
    t.arm(0);
    await clock.advance(0);
    expect(runs).to.equal(1); // the first arming fires at once; the re-arm inside waits for the clock to move
    await clock.advance(1);
    expect(runs).to.equal(2);
    await clock.advance(5);
    expect(runs).to.equal(7);
  });

  it('a callback that throws does not stop the others nor the queue; the first error reaches the runtime', async () => {
    const clock = new TestClock();
    const errors: unknown[] = [];
    const base: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'> = {
      now: () => clock.now(),
      setTimeout: (fn, ms) =>
        clock.setTimeout(() => {
          try {
            fn();
          } catch (e) {
            errors.push(e);
          }
        }, ms),
      clearTimeout: (h) => clock.clearTimeout(h),
    };
    const q = new DueQueue(base);
    const fired: string[] = [];
    q.timer(() => {
      throw new Error('first');
    }).arm(5);
    q.timer(() => {
      throw new Error('second');
    }).arm(5);
    q.timer(() => fired.push('third')).arm(5);
    q.timer(() => fired.push('later')).arm(7);
    await clock.advance(10);
    expect(fired).to.deep.equal(['third', 'later']);
    expect(errors.map((e) => (e as Error).message)).to.deep.equal(['first']);
  });

  it('matches a reference model under random arm / cancel / advance sequences (property)', async () => {
    type Op = { kind: 'arm'; t: number; ms: number } | { kind: 'cancel'; t: number } | { kind: 'advance'; ms: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('arm' as const), t: fc.nat(7), ms: fc.nat(40) }),
      fc.record({ kind: fc.constant('cancel' as const), t: fc.nat(7) }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.nat(30) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), fc.nat(2), async (ops, earlyMs) => {
        const clock = new TestClock();
        const q = new DueQueue(countingBase(clock, earlyMs).base);
        const fired: [number, number][] = [];
        const timers = Array.from({ length: 8 }, (_, i) => q.timer(() => fired.push([i, clock.now()])));
        // The model: per timer its due time while armed; fire order by (due, arming order).
        const due = new Map<number, { at: number; seq: number }>();
        let seq = 0;
        for (const o of ops) {
          if (o.kind === 'arm') {
            timers[o.t]!.arm(o.ms);
            due.set(o.t, { at: clock.now() + o.ms, seq: seq++ });
          } else if (o.kind === 'cancel') {
            timers[o.t]!.cancel();
            due.delete(o.t);
          } else {
            const until = clock.now() + o.ms;
            const ready = [...due]
              .filter(([, d]) => d.at <= until)
              .sort(([, x], [, y]) => x.at - y.at || x.seq - y.seq);
            for (const [t] of ready) due.delete(t);
            await clock.advance(o.ms);
            // Each fired no earlier than its due time, and at most 1 ms after it (re-armed early firings).
            const got = fired.splice(0);
            expect(got.map(([t]) => t)).to.deep.equal(ready.map(([t]) => t));
            for (const [i, [, d]] of ready.entries()) expect(got[i]![1]).to.be.within(d.at, d.at + 1);
          }
        }
      }),
      { seed: 20261201, numRuns: 300 },
    );
  });

  it('the system clock has reusable timers on Node (real time): never early, each once', async () => {
    const at: number[] = [];
    const started = systemClock.now();
    await new Promise<void>((resolve) => {
      const t = reusableTimer(systemClock, () => {
        at.push(systemClock.now() - started);
        if (at.length === 3) resolve();
        else t.arm(5);
      });
      t.arm(5);
    });
    expect(systemClock.timer).to.be.a('function');
    expect(at).to.have.length(3);
    expect(at[0]).to.be.at.least(5);
    expect(at[2]).to.be.at.least(15);
  });

  it('falls back to setTimeout / clearTimeout on a clock without reusable timers', async () => {
    const clock = new TestClock();
    expect(clock.timer).to.equal(undefined);
    const fired: number[] = [];
    const t = reusableTimer(clock, () => fired.push(clock.now()));
    t.arm(10);
    t.arm(20); // moved, not doubled
    await clock.advance(50);
    expect(fired).to.have.length(1);
    t.arm(5);
    t.cancel();
    await clock.advance(50);
    expect(fired).to.have.length(1);
  });
});
