import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const run = (...args: string[]) => execFileSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

describe('hafence CLI', () => {
  it('--version prints the package version', () => {
    expect(run('--version').trim()).to.equal(pkg.version);
  });

  it('--help lists the commands', () => {
    expect(run('--help')).to.include('demo');
  });

  it('an unknown command is a usage error (exit 2)', () => {
    let status = 0;
    try {
      execFileSync(process.execPath, [bin, 'no-such-command'], { stdio: 'pipe' });
    } catch (err) {
      status = (err as { status: number }).status;
    }
    expect(status).to.equal(2);
  });

  it('demo --json: one host recovered, one fenced, each released exactly once, deterministic for a seed', function () {
    this.timeout(30_000);
    const text = run('demo', '--json', '--seed', '7');
    const events = text.trim().split('\n').map((l) => JSON.parse(l) as { t: number; type: string; host?: string; resource?: string; to?: string; proof?: string });
    const released = events.filter((e) => e.type === 'workloads.released');
    expect(released.map((e) => e.host).sort()).to.deep.equal(['h3', 'h5']);
    expect(released.every((e) => e.proof === 'power-off')).to.equal(true);
    const last = (id: string) => events.filter((e) => e.type === 'resource.transition' && e.resource === id).pop()?.to;
    expect(last('h3')).to.equal('AVAILABLE');
    expect(last('h5')).to.equal('FENCED');
    expect(events.some((e) => e.type === 'resource.transition' && e.resource === 'h1' && e.to === 'DEGRADED')).to.equal(true);
    expect(run('demo', '--json', '--seed', '7')).to.equal(text);
  });

  it('demo prints a readable timeline', function () {
    this.timeout(30_000);
    const text = run('demo');
    expect(text).to.include('WORKLOADS RELEASED').and.include('final states:');
  });
});
