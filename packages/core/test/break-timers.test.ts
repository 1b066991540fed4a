import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { systemClock } from '@hafence/core';

/** packages/core (the compiled test runs from dist-test/test/). */
const CORE_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** Runs an ESM snippet in a fresh Node process in packages/core; returns its wall time and output. */
function runNode(code: string): { ms: number; status: number | null; stdout: string; stderr: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: CORE_DIR,
    encoding: 'utf8',
    timeout: 20_000,
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
    // Due at +150, the loop is free again at ~+210: a Node timer of its own fires then. Allow 60 ms of scheduling slack.
    expect(firedAt - busyEnd, 'ms after the loop was free again').to.be.below(60);
  });
});
