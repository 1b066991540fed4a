import { assert, expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HaService, type HAProvider, type HaEvent } from '@hafence/core';
import { TestClock } from '@hafence/testkit';
import { repoRoot } from './golden.js';

const root = repoRoot();
const tsc = join(root, 'node_modules', '.bin', 'tsc');
const load = async <T>(path: string): Promise<T> => (await import(pathToFileURL(join(root, path)).href)) as T;

describe('examples/ (compiled and run)', function () {
  this.timeout(60_000);

  before(() => {
    execFileSync(tsc, ['-p', join(root, 'examples', 'tsconfig.json')], { stdio: 'pipe' });
    execFileSync(tsc, ['-p', join(root, 'examples', 'custom-provider', 'tsconfig.json')], { stdio: 'pipe' });
  });

  it('test-harness: its mocha suite passes', () => {
    const r = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'),
        '--require',
        'reflect-metadata',
        join(root, 'examples', 'dist', 'test-harness', 'crash-recovery.test.js'),
      ],
      { encoding: 'utf8', cwd: root },
    );
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/3 passing/);
  });

  it('custom-provider: its own test (describeProviderConformance) passes', () => {
    const dir = join(root, 'examples', 'custom-provider');
    execFileSync(tsc, ['-p', join(dir, 'test', 'tsconfig.json')], { stdio: 'pipe' });
    const r = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'),
        '--unhandled-rejections=strict',
        join(dir, 'dist-test', 'test', 'conformance.test.js'),
      ],
      { encoding: 'utf8', cwd: dir },
    );
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/HAProvider conformance: HttpServiceProvider/);
    expect(r.stdout).to.not.match(/failing/);
  });

  it('embed-in-control-plane: the toy control plane moves VMs only on workloads.released', async () => {
    const { runEmbedExample } = await load<{ runEmbedExample(): Promise<string[]> }>(
      'examples/dist/embed-in-control-plane/embed.js',
    );
    const log = await runEmbedExample();
    const released = log.filter((l) => l.startsWith('released'));
    expect(released).to.deep.equal(['released kvm-2 (power-off): vm-2a → kvm-1, vm-2b → kvm-3']);
    const [release] = released;
    assert.exists(release);
    expect(log.indexOf(release)).to.be.greaterThan(log.indexOf('kvm-2 CHECKING → RECOVERING'));
  });

  it('custom-provider: the HTTP-service provider restarts a stuck instance through the engine', async () => {
    type Ctor = new (o: {
      baseUrl(id: string): string;
      fetch(url: string, init: { method?: string }): Promise<{ ok: boolean; status: number; text(): Promise<string> }>;
    }) => HAProvider;
    const { HttpServiceProvider } = await load<{ HttpServiceProvider: Ctor }>('examples/custom-provider/dist/index.js');
    const clock = new TestClock();
    const broken = new Set<string>();
    const counters = new Map<string, number>();
    const restarts: string[] = [];
    const provider = new HttpServiceProvider({
      baseUrl: (id) => `http://${id}`,
      fetch: async (url, init) => {
        const match = /^http:\/\/([^/]+)(\/.*)$/.exec(url);
        if (!match) throw new Error(`unexpected URL ${url}`);
        const [, id = '', path = ''] = match;
        if (path === '/restart' && init.method === 'POST') (restarts.push(id), broken.delete(id));
        if (!broken.has(id)) counters.set(id, (counters.get(id) ?? 0) + 1);
        const body = path === '/metrics' ? `requests_total ${counters.get(id) ?? 0}\n` : 'ok';
        return {
          ok: !(broken.has(id) && path === '/healthz'),
          status: broken.has(id) && path === '/healthz' ? 503 : 200,
          text: async () => body,
        };
      },
    });
    const ha = new HaService({ providers: [provider], clock, config: { startupGrace: 0 } });
    const events: HaEvent[] = [];
    ha.events$.subscribe((e) => events.push(e));
    await ha.start();
    await ha.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
    for (const id of ['api-1', 'api-2', 'api-3'])
      await ha.addResource({ ref: { type: 'http-service', id }, partition: 'c1' });
    await clock.advance(60_000);
    broken.add('api-2');
    await clock.advance(10 * 60_000);
    expect(restarts).to.deep.equal(['api-2']);
    expect(ha.resource({ type: 'http-service', id: 'api-2' }).state).to.equal('AVAILABLE');
    await ha.stop();
  });
});
