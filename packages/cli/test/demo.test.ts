import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const run = (...args: string[]) => execFileSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

interface Line {
  t: number;
  type: string;
  host?: string;
  resource?: string;
  to?: string;
  proof?: string;
  action?: string;
  by?: string;
  do?: string;
}

function scenariosDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'test', 'scenarios'))) dir = dirname(dir);
  return join(dir, 'test', 'scenarios');
}

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
});

describe('hafence demo', function () {
  this.timeout(60_000);

  it('--json: h3 recovered, the storage outage stops nothing, h1 DEGRADED, h5 fenced; deterministic; well under a minute', () => {
    const started = process.hrtime.bigint();
    const text = run('demo', '--json', '--seed', '7');
    expect(Number(process.hrtime.bigint() - started) / 1e9).to.be.below(60);
    const events = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    const released = events.filter((e) => e.type === 'workloads.released');
    expect(released.map((e) => e.host).sort()).to.deep.equal(['h3', 'h5']);
    expect(released.every((e) => e.proof === 'power-off')).to.equal(true);
    const last = (id: string) => events.filter((e) => e.type === 'resource.transition' && e.resource === id).pop()?.to;
    expect(last('h3')).to.equal('AVAILABLE');
    expect(last('h5')).to.equal('FENCED');
    expect(events.some((e) => e.type === 'resource.transition' && e.resource === 'h1' && e.to === 'DEGRADED')).to.equal(
      true,
    );
    const at = (what: string) => events.find((e) => e.type === 'scenario.step' && e.do === what)!.t;
    const duringOutage = events.filter((e) => e.t >= at('storage-down') && e.t <= at('storage-up') + 10 * 60_000);
    expect(
      duringOutage.filter((e) => e.type === 'power.action' && e.by === 'ha'),
      'power actions during the storage outage',
    ).to.deep.equal([]);
    expect(run('demo', '--json', '--seed', '7')).to.equal(text);
  });

  it('prints a readable timeline and the final table when stdout is not a terminal', () => {
    const text = run('demo');
    expect(text).to.include('WORKLOADS RELEASED').and.include('final states:').and.include('>>> crash h5 (stuck)');
    expect(text).to.not.include('\x1b[');
  });

  it('--scenario FILE --json prints the same log as the scenario golden', () => {
    const dir = scenariosDir();
    const text = run('demo', '--scenario', join(dir, 'host-crash-recovered.yaml'), '--json');
    expect(text).to.equal(readFileSync(join(dir, 'host-crash-recovered.golden.jsonl'), 'utf8'));
  });

  it('a scenario whose config breaks a bound or overrides a host or cluster it lacks exits 2 naming the field (SPEC §4)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hafence-demo-'));
    const demo = (name: string, config: string) => {
      writeFileSync(join(dir, name), `name: ${name}\nhosts: 6\nconfig: ${config}\nrun: 10m\n`);
      return spawnSync(process.execPath, [bin, 'demo', '--scenario', join(dir, name)], { encoding: 'utf8' });
    };
    const targets = demo('targets.yaml', '{ hosts: { h9: { quietPeriod: 3m } }, clusters: { c2: {} } }');
    expect(targets.status).to.equal(2);
    expect(targets.stderr).to.include('HAF6001').and.include('config.hosts.h9').and.include('config.clusters.c2');
    const zero = demo('zero.yaml', '{ defaults: { activityCheckTimeout: 0 } }');
    expect(zero.status).to.equal(2);
    expect(zero.stderr).to.include('config.defaults.activityCheckTimeout = 0');
    const quiet = demo('quiet.yaml', '{ clusters: { c1: { quietPeriod: 5s } } }');
    expect(quiet.status).to.equal(2);
    expect(quiet.stderr).to.include('config.clusters.c1.quietPeriod = 5000');
    expect(quiet.stdout).to.equal('');
  });

  it('a bad scenario file is a usage error naming the field', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hafence-demo-')), 'bad.yaml');
    writeFileSync(file, 'name: bad\nhosts: 3\nsteps:\n  - { at: 1m, do: crash, host: h7 }\nrun: 10m\n');
    const r = spawnSync(process.execPath, [bin, 'demo', '--scenario', file], { encoding: 'utf8' });
    expect(r.status).to.equal(2);
    expect(r.stderr).to.include('steps.0.host').and.include('HAF6001');
  });

  it('a scenario with config observeOnly: the crash is decided (a would-be off), no stop command, nothing released', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hafence-demo-')), 'observe.yaml');
    writeFileSync(
      file,
      'name: observe\nhosts: 4\nvmsPerHost: 1\nseed: 7\nconfig: { observeOnly: true }\n' +
        'steps:\n  - { at: 6m, do: crash, host: h2 }\nrun: 40m\n',
    );
    const events = run('demo', '--scenario', file, '--json')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    const would = events.filter((e) => e.type === 'would.power.action');
    expect(would.map((e) => [e.resource, e.action, e.by])).to.deep.equal([['h2', 'off', 'ha']]);
    expect(events.filter((e) => e.type === 'power.action' && e.action !== 'status')).to.deep.equal([]);
    expect(events.filter((e) => e.type === 'workloads.released')).to.deep.equal([]);
    const text = run('demo', '--scenario', file);
    expect(text).to.match(/h2\s+WOULD power off by ha \(observe-only: not sent\)/);
    expect(text).to.include('0 stop command(s), 1 command(s) withheld (observe-only)');
  });

  it('on a terminal: a live table of hosts redrawn with ANSI codes, with the timeline below', async () => {
    const demoModule = new URL('../../dist/commands/demo.js', import.meta.url).href;
    const { runDemo } = (await import(demoModule)) as {
      runDemo(o: { live?: boolean; liveBudgetMs?: number }): Promise<number>;
    };
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (chunks.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      expect(await runDemo({ live: true, liveBudgetMs: 300 })).to.equal(0);
    } finally {
      process.stdout.write = write;
    }
    const text = chunks.join('');
    expect(text.split('\x1b[H\x1b[J').length).to.be.greaterThan(100);
    const lastFrame = text.slice(text.lastIndexOf('\x1b[H\x1b[J'));
    expect(lastFrame)
      .to.match(/HOST\s+HA STATE\s+POWER\s+LAST EVENT/)
      .and.include('timeline:')
      .and.match(/h5\s+FENCED\s+OFF/);
    expect(text).to.include('done:');
  });
});
