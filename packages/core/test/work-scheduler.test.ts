import { expect } from 'chai';
import { AbortedError, delay, TimeoutError } from '@hafence/core';
import { WorkScheduler, type JobControl, type JobHandle, type Lane, type LaneLimits } from '@hafence/core/internal';
import { TestClock, flushMicrotasks } from '@hafence/testkit';

/** A promise resolved from outside the work function. */
interface Gate<T> {
  readonly promise: Promise<T>;
  readonly open: (value: T) => void;
}

function gate<T = string>(): Gate<T> {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

const LIMITS: LaneLimits = { health: 2, activity: 1, recover: 3, fence: 1 };

describe('WorkScheduler', () => {
  let clock: TestClock;
  let scheduler: WorkScheduler;

  beforeEach(() => {
    clock = new TestClock();
  });

  afterEach(() => scheduler?.close());

  const build = (limits: LaneLimits = LIMITS, maxQueued = 1000) =>
    (scheduler = new WorkScheduler({ clock, limits, maxQueued }));

  describe('lanes', () => {
    it('runs at most the limit of each lane at once, oldest first, lanes independent of each other', async () => {
      build();
      const lanes: Lane[] = ['health', 'activity', 'recover', 'fence'];
      const running = new Map<Lane, number>(lanes.map((l) => [l, 0]));
      const peak = new Map<Lane, number>(lanes.map((l) => [l, 0]));
      const started: string[] = [];
      const gates = new Map<string, Gate<string>>();
      const handles: Array<JobHandle<string>> = [];
      for (let i = 0; i < 6; i++) {
        for (const lane of lanes) {
          const id = `${lane}${i}`;
          gates.set(id, gate());
          handles.push(
            scheduler.submit(lane, id, 60_000, async () => {
              started.push(id);
              running.set(lane, running.get(lane)! + 1);
              peak.set(lane, Math.max(peak.get(lane)!, running.get(lane)!));
              const value = await gates.get(id)!.promise;
              running.set(lane, running.get(lane)! - 1);
              return value;
            }),
          );
        }
      }
      await flushMicrotasks();
      for (const lane of lanes) expect(scheduler.active(lane), lane).to.equal(LIMITS[lane]);
      expect(scheduler.queued).to.equal(24 - 2 - 1 - 3 - 1);
      expect(started.filter((id) => id.startsWith('health'))).to.deep.equal(['health0', 'health1']);

      // Releasing jobs one by one lets the next waiting job of that lane start, in order.
      for (let i = 0; i < 6; i++) {
        for (const lane of lanes) gates.get(`${lane}${i}`)!.open(`${lane}${i}`);
        await flushMicrotasks();
      }
      const outcomes = await Promise.all(handles.map((h) => h.outcome));
      expect(outcomes.every((o) => o.kind === 'ok')).to.equal(true);
      for (const lane of lanes) {
        expect(peak.get(lane), lane).to.equal(LIMITS[lane]);
        expect(started.filter((id) => id.startsWith(lane))).to.deep.equal([0, 1, 2, 3, 4, 5].map((i) => `${lane}${i}`));
      }
      expect(scheduler.queued).to.equal(0);
    });

    it('gives a job its result, or the error its work threw or rejected with', async () => {
      build();
      const ok = scheduler.submit('health', 'ok', 1000, async () => 42);
      const rejected = scheduler.submit('health', 'rejects', 1000, async () => {
        throw new Error('boom');
      });
      const thrown = scheduler.submit('activity', 'throws', 1000, () => {
        throw new Error('sync boom');
      });
      expect(await ok.outcome).to.deep.equal({ kind: 'ok', value: 42 });
      const r = await rejected.outcome;
      expect(r.kind === 'error' && (r.error as Error).message).to.equal('boom');
      const t = await thrown.outcome;
      expect(t.kind === 'error' && (t.error as Error).message).to.equal('sync boom');
    });
  });

  describe('bounded queue', () => {
    it('sheds the oldest waiting health check first and never a recovery or fence', async () => {
      build({ health: 1, activity: 1, recover: 1, fence: 1 }, 3);
      const blockers = (['health', 'activity', 'recover', 'fence'] as const).map((lane) => {
        const g = gate();
        return { g, handle: scheduler.submit(lane, `${lane}-blocker`, 60_000, () => g.promise) };
      });
      const ran: string[] = [];
      const job = (lane: Lane, id: string) =>
        scheduler.submit(lane, id, 60_000, async () => {
          ran.push(id);
          return id;
        });
      const h1 = job('health', 'h1');
      const r1 = job('recover', 'r1');
      const h2 = job('health', 'h2');
      expect(scheduler.queued).to.equal(3);

      const f1 = job('fence', 'f1'); // full: the oldest health check (h1) goes
      expect(await h1.outcome).to.deep.equal({ kind: 'cancelled', reason: 'shed: queue full' });
      const r2 = job('recover', 'r2'); // full: h2 goes
      expect(await h2.outcome).to.deep.equal({ kind: 'cancelled', reason: 'shed: queue full' });
      expect(scheduler.shed).to.equal(2);
      expect(scheduler.queued).to.equal(3);

      const f2 = job('fence', 'f2'); // no health check left to shed: a fence joins above the bound
      expect(scheduler.queued).to.equal(4);
      const h3 = job('health', 'h3'); // and a new health check is itself shed
      expect(await h3.outcome).to.deep.equal({ kind: 'cancelled', reason: 'shed: queue full' });
      expect(scheduler.shed).to.equal(3);

      for (const b of blockers) b.g.open('done');
      const kept = await Promise.all([r1, f1, r2, f2].map((h) => h.outcome));
      expect(kept.map((o) => o.kind)).to.deep.equal(['ok', 'ok', 'ok', 'ok']);
      expect(ran).to.have.members(['r1', 'f1', 'r2', 'f2']);
      expect(ran).to.not.include.members(['h1', 'h2', 'h3']);
    });

    it('a lane survives thousands of jobs shed or cancelled while they wait (regression: RxJS stack overflow)', async () => {
      // With every waiting job in mergeMap's own buffer, a run of ~800 cancelled ones was
      // drained recursively: RangeError, and the health lane silently stopped for good.
      build({ health: 1, activity: 1, recover: 1, fence: 1 }, 10);
      const blocker = gate();
      const first = scheduler.submit('health', 'blocker', 60_000, () => blocker.promise);
      const handles: Array<JobHandle<number>> = [];
      for (let i = 0; i < 20_000; i++) handles.push(scheduler.submit('health', `h${i}`, 60_000, async () => i));
      for (const h of handles.slice(-10, -5)) h.cancel('resource removed');
      expect(scheduler.shed).to.equal(19_990);
      blocker.open('done');
      expect((await first.outcome).kind).to.equal('ok');
      expect(await handles.at(-1)!.outcome).to.deep.equal({ kind: 'ok', value: 19_999 });
      const after = scheduler.submit('health', 'after', 60_000, async () => 'still running');
      expect(await after.outcome).to.deep.equal({ kind: 'ok', value: 'still running' });
    });
  });

  describe('timeouts', () => {
    it('aborts a timed-out job’s signal, reports a TimeoutError, frees the slot and ignores the late result', async () => {
      build({ health: 1, activity: 1, recover: 1, fence: 1 });
      const late = gate();
      let signal!: AbortSignal;
      let abortEvents = 0;
      const slow = scheduler.submit('recover', 'recover h1', 5_000, (control) => {
        signal = control.signal;
        signal.addEventListener('abort', () => abortEvents++);
        return late.promise; // ignores the signal, answers much later
      });
      const next = scheduler.submit('recover', 'recover h2', 5_000, async () => 'second');

      await clock.advance(4_999);
      expect(signal.aborted).to.equal(false);
      expect(scheduler.active('recover')).to.equal(1);

      await clock.advance(1);
      expect(signal.aborted).to.equal(true);
      expect(abortEvents).to.equal(1);
      expect(signal.reason).to.be.instanceOf(TimeoutError);
      const outcome = await slow.outcome;
      expect(outcome.kind).to.equal('timeout');
      if (outcome.kind === 'timeout') {
        expect(outcome.error).to.be.instanceOf(TimeoutError);
        expect(outcome.error.message).to.contain('recover h1');
      }
      expect(await next.outcome).to.deep.equal({ kind: 'ok', value: 'second' });

      late.open('too late'); // the late result changes nothing
      await flushMicrotasks();
      expect(await slow.outcome).to.equal(outcome);
      expect(scheduler.active('recover')).to.equal(0);
    });

    it('starts the timeout when the job starts running, not while it waits', async () => {
      build({ health: 1, activity: 1, recover: 1, fence: 1 });
      const blocker = scheduler.submit('fence', 'first', 60_000, (c) => delay(clock, 30_000, c.signal));
      const waiting = scheduler.submit('fence', 'second', 10_000, (c) =>
        delay(clock, 9_000, c.signal).then(() => 'in time'),
      );
      await clock.advance(30_000);
      expect((await blocker.outcome).kind).to.equal('ok');
      await clock.advance(9_000);
      expect(await waiting.outcome).to.deep.equal({ kind: 'ok', value: 'in time' });
    });

    it('does not run a held job’s timeout while it is held (control.hold), and resumes it with the time left', async () => {
      build();
      const held = gate();
      let signal!: AbortSignal;
      const job = scheduler.submit('fence', 'fence h1', 1_000, async (control: JobControl) => {
        signal = control.signal;
        await delay(clock, 200, control.signal); // 200 ms of the 1 s used
        await control.hold(held.promise); // a stop command held by the fence budget
        await delay(clock, 60_000, control.signal); // hangs: 800 ms left
        return 'never';
      });
      await clock.advance(200);
      await clock.advance(60 * 60_000); // an hour held: no timeout
      expect(signal.aborted).to.equal(false);

      held.open('budget resumed');
      await clock.advance(799);
      expect(signal.aborted).to.equal(false);
      await clock.advance(1);
      expect(signal.aborted).to.equal(true);
      expect((await job.outcome).kind).to.equal('timeout');
    });
  });

  describe('held jobs', () => {
    it('a held job lends its lane slot: a fence behind it runs (proof that needs no command is not starved)', async () => {
      build(); // fence lane: 1 slot
      const held = gate();
      const first = scheduler.submit('fence', 'fence h1', 60_000, async (control: JobControl) => {
        await control.hold(held.promise); // its stop command waits for the fence budget
        return 'sent';
      });
      await clock.advance(1);
      expect(scheduler.active('fence')).to.equal(0);
      const second = scheduler.submit('fence', 'fence h2 (already OFF)', 60_000, async () => 'proved');
      await clock.advance(1);
      expect(await second.outcome).to.deep.equal({ kind: 'ok', value: 'proved' });
      held.open('budget resumed');
      await clock.advance(1);
      expect(await first.outcome).to.deep.equal({ kind: 'ok', value: 'sent' });
      expect(scheduler.active('fence')).to.equal(0);
    });

    it('a job aborted while held gives back no slot twice', async () => {
      build();
      const held = gate();
      const job = scheduler.submit('fence', 'fence h1', 60_000, (control: JobControl) => control.hold(held.promise));
      await clock.advance(1);
      job.cancel('partition INACTIVE');
      held.open('late');
      await clock.advance(1);
      expect(scheduler.active('fence')).to.equal(0);
      const next = scheduler.submit('fence', 'next', 60_000, async () => 'ran');
      const blocked = scheduler.submit('fence', 'behind it', 60_000, async () => 'ran too');
      await clock.advance(1);
      expect((await next.outcome).kind).to.equal('ok');
      expect((await blocked.outcome).kind).to.equal('ok');
      expect(scheduler.active('fence')).to.equal(0);
    });
  });

  describe('cancellation', () => {
    it('cancels a waiting job without running it', async () => {
      build({ health: 1, activity: 1, recover: 1, fence: 1 });
      const blocker = gate();
      scheduler.submit('activity', 'blocker', 60_000, () => blocker.promise);
      let ran = false;
      const queued = scheduler.submit('activity', 'queued', 60_000, async () => {
        ran = true;
      });
      expect(scheduler.queued).to.equal(1);
      queued.cancel('resource removed');
      expect(await queued.outcome).to.deep.equal({ kind: 'cancelled', reason: 'resource removed' });
      expect(scheduler.queued).to.equal(0);
      blocker.open('done');
      await clock.advance(1);
      expect(ran).to.equal(false);
    });

    it('cancels a running job: its signal aborts with an AbortedError, the slot frees, its late result is ignored', async () => {
      build({ health: 1, activity: 1, recover: 1, fence: 1 });
      const late = gate();
      let signal!: AbortSignal;
      const running = scheduler.submit('recover', 'recover h1', 60_000, (control) => {
        signal = control.signal;
        return late.promise;
      });
      const next = scheduler.submit('recover', 'recover h2', 60_000, async () => 'next');
      await flushMicrotasks();
      expect(scheduler.active('recover')).to.equal(1);

      running.cancel('left RECOVERING');
      expect(signal.aborted).to.equal(true);
      expect(signal.reason).to.be.instanceOf(AbortedError);
      expect(await running.outcome).to.deep.equal({ kind: 'cancelled', reason: 'left RECOVERING' });
      expect(await next.outcome).to.deep.equal({ kind: 'ok', value: 'next' });
      late.open('late');
      await flushMicrotasks();
      expect(await running.outcome).to.deep.equal({ kind: 'cancelled', reason: 'left RECOVERING' });
      running.cancel('again'); // harmless once done
    });

    it('close() cancels waiting jobs, aborts running ones and refuses new work', async () => {
      build({ health: 1, activity: 1, recover: 1, fence: 1 });
      let signal!: AbortSignal;
      const running = scheduler.submit('health', 'running', 60_000, (control) => {
        signal = control.signal;
        return gate().promise;
      });
      const queued = scheduler.submit('health', 'queued', 60_000, async () => 'never');
      await flushMicrotasks();
      scheduler.close();
      expect(signal.aborted).to.equal(true);
      expect(await running.outcome).to.deep.equal({ kind: 'cancelled', reason: 'scheduler closed' });
      expect(await queued.outcome).to.deep.equal({ kind: 'cancelled', reason: 'scheduler closed' });
      const late = scheduler.submit('fence', 'after close', 1_000, async () => 'never');
      expect(await late.outcome).to.deep.equal({ kind: 'cancelled', reason: 'scheduler closed' });
      expect(scheduler.queued).to.equal(0);
      expect(clock.pending).to.equal(0);
    });
  });
});
