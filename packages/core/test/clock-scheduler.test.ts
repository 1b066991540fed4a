import { expect } from 'chai';
import { Subject, delay, interval, take, timeout, timer, type SchedulerLike } from 'rxjs';
import { clockScheduler } from '@hafence/core';
import { TestClock } from '@hafence/testkit';

describe('clockScheduler', () => {
  let clock: TestClock;
  let scheduler: SchedulerLike;
  let start: number;

  beforeEach(() => {
    clock = new TestClock();
    scheduler = clockScheduler(clock);
    start = clock.now();
  });

  const elapsed = () => clock.now() - start;

  it('reads the time of the clock', async () => {
    expect(scheduler.now()).to.equal(clock.now());
    await clock.advance(1234);
    expect(scheduler.now()).to.equal(start + 1234);
  });

  it('runs rxjs timer in virtual time, not before it is due', async () => {
    const fired: number[] = [];
    timer(10_000, scheduler).subscribe(() => fired.push(elapsed()));
    await clock.advance(9_999);
    expect(fired).to.deep.equal([]);
    await clock.advance(1);
    expect(fired).to.deep.equal([10_000]);
    expect(clock.pending).to.equal(0);
  });

  it('runs rxjs interval in virtual time, period after period', async () => {
    const ticks: Array<[number, number]> = [];
    let completed = false;
    interval(500, scheduler)
      .pipe(take(4))
      .subscribe({ next: (n) => ticks.push([n, elapsed()]), complete: () => (completed = true) });
    await clock.advance(1_999);
    expect(ticks).to.deep.equal([
      [0, 500],
      [1, 1000],
      [2, 1500],
    ]);
    await clock.advance(10_000);
    expect(ticks).to.deep.equal([
      [0, 500],
      [1, 1000],
      [2, 1500],
      [3, 2000],
    ]);
    expect(completed).to.equal(true);
    expect(clock.pending).to.equal(0);
  });

  it('runs a timer with a period (due, then every period)', async () => {
    const ticks: number[] = [];
    const sub = timer(1_000, 250, scheduler).subscribe(() => ticks.push(elapsed()));
    await clock.advance(1_600);
    sub.unsubscribe();
    expect(ticks).to.deep.equal([1_000, 1_250, 1_500]);
  });

  it('stops a timer that is unsubscribed before it is due, leaving no clock timer behind', async () => {
    let fired = false;
    const sub = interval(1_000, scheduler).subscribe(() => (fired = true));
    expect(clock.pending).to.equal(1);
    sub.unsubscribe();
    expect(clock.pending).to.equal(0);
    await clock.advance(60_000);
    expect(fired).to.equal(false);
  });

  it('drives time-based operators (delay, timeout) in virtual time', async () => {
    const seen: Array<[string, number]> = [];
    const source = new Subject<string>();
    source.pipe(delay(3_000, scheduler)).subscribe((v) => seen.push([v, elapsed()]));
    source.next('a');
    await clock.advance(1_000);
    source.next('b');
    await clock.advance(5_000);
    expect(seen).to.deep.equal([
      ['a', 3_000],
      ['b', 4_000],
    ]);

    let error: unknown;
    new Subject<number>().pipe(timeout({ first: 10_000, scheduler })).subscribe({ error: (e: unknown) => (error = e) });
    await clock.advance(9_999);
    expect(error).to.equal(undefined);
    await clock.advance(1);
    expect((error as Error).name).to.equal('TimeoutError');
  });

  it('keeps timers of several schedulers on one clock in time order', async () => {
    const order: string[] = [];
    const other = clockScheduler(clock);
    timer(300, scheduler).subscribe(() => order.push('a@300'));
    timer(100, other).subscribe(() => order.push('b@100'));
    timer(200, scheduler).subscribe(() => order.push('c@200'));
    await clock.advance(300);
    expect(order).to.deep.equal(['b@100', 'c@200', 'a@300']);
  });
});
