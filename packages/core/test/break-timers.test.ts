import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { delay, HaService, systemClock } from '@hafence/core';
import { WorkScheduler, type JobControl } from '@hafence/core/internal';
import { FakeProvider, TestClock } from '@hafence/testkit';

/** packages/core (the compiled test runs from dist-test/test/). */
const CORE_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** Runs an ESM snippet in a fresh Node process in packages/core; returns its wall time and output. */
function runNode(code: string): { ms: number; status: number | null; stdout: string; stderr: string } {
  const t0 = performance.now();
  // No colours: under lerna (FORCE_COLOR) console.log would wrap the numbers the tests read in escape codes.
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: CORE_DIR,
    encoding: 'utf8',
    timeout: 20_000,
    env,
  });
  return { ms: performance.now() - t0, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('break-timers: systemClock reusable timers', function () {
  this.timeout(30_000);

  it('a timer armed then cancelled does not keep the process alive (as clearTimeout would not)', () => {
    // Baseline: Node's own timer, set then cleared, lets the process exit at once.
    const node = runNode(`const h = setTimeout(() => {}, 4000); clearTimeout(h);`);
    const shared = runNode(
      `import { systemClock } from '@hafence/core';` +
        `const t = systemClock.timer(() => console.log('fired')); t.arm(4000); t.cancel();`,
    );
    expect(node.status).to.equal(0);
    expect(shared.status).to.equal(0);
    expect(shared.stdout).to.equal('');
    expect(node.ms).to.be.below(2000);
    expect(shared.ms, 'exit time of a process whose only shared timer was cancelled').to.be.below(2000);
  });

  it('an armed timer keeps the process alive until it fires, like a Node timer', () => {
    const shared = runNode(
      `import { systemClock } from '@hafence/core';` +
        `const t0 = systemClock.now(); const t = systemClock.timer(() => console.log(systemClock.now() - t0)); t.arm(300);`,
    );
    expect(shared.status).to.equal(0);
    expect(Number(shared.stdout.trim())).to.be.at.least(300);
  });

  it('a timer armed beyond 2^31-1 ms neither busy-wakes the process nor floods TimeoutOverflowWarning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.name);
    };
    process.on('warning', onWarning);
    const fired: number[] = [];
    const make = systemClock.timer;
    if (!make) throw new Error('systemClock has no timer()');
    const t = make(() => fired.push(systemClock.now()));
    try {
      t.arm(2 ** 33);
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      t.cancel();
      // let the (possibly spinning) base timer see the cancel and stop
      await new Promise((r) => setTimeout(r, 20));
      process.off('warning', onWarning);
    }
    expect(fired).to.deep.equal([]);
    expect(warnings.filter((n) => n === 'TimeoutOverflowWarning')).to.deep.equal([]);
  });

  it('a timer that came due while other callbacks ran fires as soon as the loop is free, not a round later', async () => {
    const make = systemClock.timer;
    if (!make) throw new Error('systemClock has no timer()');
    const t0 = systemClock.now();
    let busyEnd = 0;
    let firedAt = 0;
    const busy = make(() => {
      const until = systemClock.now() + 200;
      while (systemClock.now() < until) {
        // a 200 ms busy callback (100,000 health callbacks in one round)
      }
      busyEnd = systemClock.now();
    });
    const late = make(() => {
      firedAt = systemClock.now();
    });
    busy.arm(10);
    late.arm(150);
    await new Promise((r) => setTimeout(r, 600));
    expect(busyEnd - t0).to.be.at.least(210);
    expect(firedAt - t0, 'fired before its time').to.be.at.least(150);
    // Due at +150, the loop is free again at ~+210: a Node timer of its own fires then. 60 ms of scheduling slack.
    expect(firedAt - busyEnd, 'ms after the loop was free again').to.be.below(60);
  });
});

/** Resolves after `ms` of real time. */
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('break-timers: job timeouts and the engine on shared timers', function () {
  this.timeout(30_000);

  it('a held job keeps its timeout paused and then gets exactly the time left (TestClock sharedTimers)', async () => {
    const clock = new TestClock(undefined, { sharedTimers: true });
    const scheduler = new WorkScheduler({
      clock,
      limits: { health: 1, activity: 1, recover: 1, fence: 1 },
      maxQueued: 10,
    });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let signal!: AbortSignal;
    const job = scheduler.submit('fence', 'fence h1', 1_000, async (control: JobControl) => {
      signal = control.signal;
      await delay(clock, 200, control.signal);
      await control.hold(control.hold(held)); // nested holds: one pause
      await delay(clock, 60_000, control.signal);
      return 'never';
    });
    await clock.advance(200);
    await clock.advance(3_600_000);
    expect(signal.aborted).to.equal(false);
    release();
    await clock.advance(799);
    expect(signal.aborted).to.equal(false);
    await clock.advance(1);
    expect(signal.aborted).to.equal(true);
    expect((await job.outcome).kind).to.equal('timeout');
    scheduler.close();
  });

  it('a held job on the system clock times out with the time left after the hold, not before', async () => {
    const clock = systemClock;
    const scheduler = new WorkScheduler({
      clock,
      limits: { health: 1, activity: 1, recover: 1, fence: 1 },
      maxQueued: 10,
    });
    const t0 = clock.now();
    let timedOutAt = 0;
    const job = scheduler.submit('fence', 'fence h1', 300, async (control: JobControl) => {
      control.signal.addEventListener('abort', () => (timedOutAt = clock.now()));
      await delay(clock, 100, control.signal);
      await control.hold(sleep(400));
      await delay(clock, 60_000, control.signal);
      return 'never';
    });
    expect((await job.outcome).kind).to.equal('timeout');
    // 100 ms run + 400 ms held + the 200 ms left
    expect(timedOutAt - t0).to.be.at.least(700);
    expect(timedOutAt - t0).to.be.below(900);
    scheduler.close();
  });

  it('on the system clock a crashed host goes SUSPECT and on through the state machine', async () => {
    const clock = systemClock;
    const provider = new FakeProvider({ clock, bootTimeMs: 100 });
    const ha = new HaService({
      providers: [provider],
      clock,
      config: {
        startupGrace: 0,
        defaults: {
          healthCheckInterval: 100,
          healthCheckTimeout: 150,
          activityCheckInterval: 100,
          activityCheckTimeout: 150,
          quietPeriod: 200,
          recoverRetryDelay: 100,
        },
      },
    });
    await ha.start();
    try {
      await ha.addPartition({ id: 'z1', kind: 'zone', enabled: true, haEnabled: true });
      await ha.addPartition({ id: 'p1', kind: 'pod', parent: 'z1', enabled: true, haEnabled: true });
      await ha.addPartition({ id: 'c1', kind: 'cluster', parent: 'p1', enabled: true, haEnabled: true });
      for (const id of ['h1', 'h2', 'h3', 'h4']) await ha.addResource({ ref: { type: 'host', id }, partition: 'c1' });
      const stateOf = (id: string) => ha.list().find((r) => r.ref.id === id)?.state;
      const seen: string[] = [];
      const until = async (ms: number, done: () => boolean) => {
        const end = clock.now() + ms;
        while (!done() && clock.now() < end) {
          const s = stateOf('h2');
          if (s !== undefined && seen.at(-1) !== s) seen.push(s);
          await sleep(5);
        }
      };
      await until(3_000, () => stateOf('h2') === 'AVAILABLE');
      expect(stateOf('h2')).to.equal('AVAILABLE');
      provider.host('h2').crashed = true;
      seen.length = 0;
      await until(5_000, () => seen.includes('SUSPECT') && !['AVAILABLE', 'SUSPECT'].includes(stateOf('h2') ?? ''));
      expect(seen).to.include('SUSPECT');
      expect(stateOf('h2')).to.not.be.oneOf(['AVAILABLE', 'SUSPECT']);
    } finally {
      await ha.stop();
    }
  });

  it('a process exits right after HaService.stop() on the system clock (no cancelled timer keeps it alive)', () => {
    // Saw 1043 ms here with the DueQueue of 4713518 (the cancelled health timers' old due time); 3 ms after the fix.
    const r = runNode(
      `import 'reflect-metadata';
      import { HaService, systemClock } from '@hafence/core';
      import { FakeProvider } from '@hafence/testkit';
      const clock = systemClock;
      const ha = new HaService({ providers: [new FakeProvider({ clock })], clock, config: { startupGrace: 0 } });
      await ha.start();
      await ha.addPartition({ id: 'z1', kind: 'zone', enabled: true, haEnabled: true });
      await ha.addPartition({ id: 'p1', kind: 'pod', parent: 'z1', enabled: true, haEnabled: true });
      await ha.addPartition({ id: 'c1', kind: 'cluster', parent: 'p1', enabled: true, haEnabled: true });
      for (const id of ['h1', 'h2']) await ha.addResource({ ref: { type: 'host', id }, partition: 'c1' });
      await new Promise((r) => setTimeout(r, 2500));
      const ts = clock.now();
      await ha.stop();
      process.on('exit', () => console.log(clock.now() - ts));`,
    );
    expect(r.status, r.stderr).to.equal(0);
    expect(Number(r.stdout.trim()), 'ms from stop() to exit').to.be.below(300);
  });
});

describe('break-timers: systemClock.setTimeout beyond 2^31-1 ms', function () {
  this.timeout(10_000);

  it('delay(systemClock, 2^31 ms) does not resolve after 1 ms (Node turns a longer timer into 1 ms)', async () => {
    // FakeProvider's 'hang' (a year's delay) answers after 1 ms on the system clock because of this.
    const ac = new AbortController();
    let resolved = false;
    const pending = delay(systemClock, 2 ** 31, ac.signal).then(
      () => (resolved = true),
      () => undefined,
    );
    await sleep(100);
    ac.abort();
    await pending;
    expect(resolved, 'resolved before its time').to.equal(false);
  });

  it('a timer set beyond 2^31-1 ms can be cleared', async () => {
    let fired = false;
    const h = systemClock.setTimeout(() => (fired = true), 2 ** 32);
    systemClock.clearTimeout(h);
    await sleep(50);
    expect(fired).to.equal(false);
  });
});
