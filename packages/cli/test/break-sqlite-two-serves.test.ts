import { expect } from 'chai';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimBmc } from '@hafence/sim';
import {
  dumpChildren,
  e2eClusterYaml,
  freePorts,
  HafenceProcess,
  onPowerCycle,
  startE2eAgent,
  waitFor,
} from './e2e-kvm-processes.js';

const PASSWORD = 'Two-Serves-Pw-5519';
const TOKEN = 'two-serves-token-8c1e4b7a2d';
const HOSTS = ['h1', 'h2', 'h3'] as const;
const STOPS = ['off', 'soft', 'cycle', 'reset'];

type Event = { t: number; type: string; [k: string]: unknown };

/**
 * Two `hafence serve` processes started on one cluster file, so on one SQLite state file (an operator's slip, a
 * service manager starting a second copy). README (store-typeorm): "SQLite is for one management server". Whatever
 * happens, the two must not both act: h2's BMC sees one stop in its episode and its workloads are released once —
 * or the second serve refuses to start.
 */
describe('break: two hafence serve on one SQLite state file (real processes)', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'hafence-two-serves-'));
  const tokenFile = join(dir, 'agent.token');
  const configFile = join(dir, 'cluster.yaml');
  const setup = { mount: join(dir, 'mount'), tokenFile, urls: new Map<string, string>() };
  const children: HafenceProcess[] = [];
  const bmcs = new Map<string, SimBmc>();
  const agents = new Map<string, HafenceProcess>();
  const serves: HafenceProcess[] = [];
  let watch: NodeJS.Timeout | undefined;

  function startAgent(host: string): void {
    const p = startE2eAgent(host, setup);
    children.push(p);
    agents.set(host, p);
  }

  function startServe(): HafenceProcess {
    const p = new HafenceProcess(`serve #${serves.length + 1}`, ['serve', '--config', configFile, '--json'], {
      E2E_BMC_PW: PASSWORD,
    });
    children.push(p);
    serves.push(p);
    return p;
  }

  before(async () => {
    writeFileSync(tokenFile, `${TOKEN}\n`);
    chmodSync(tokenFile, 0o600);
    const ports = await freePorts(HOSTS.length);
    for (const [i, h] of HOSTS.entries()) {
      setup.urls.set(h, `http://127.0.0.1:${ports[i]}`);
      bmcs.set(h, await SimBmc.start({ users: [{ name: 'admin', password: PASSWORD, privilege: 4 }], power: 'ON' }));
    }
    for (const h of HOSTS) startAgent(h);
    const hosts = HOSTS.map((h) => ({ id: h, agentUrl: setup.urls.get(h)!, bmcPort: bmcs.get(h)!.port }));
    writeFileSync(configFile, e2eClusterYaml(hosts, tokenFile));
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') for (const s of serves) dumpChildren(children, s);
  });

  after(async () => {
    clearInterval(watch);
    for (const c of children) c.killGroup();
    await Promise.all(children.map((c) => c.waitExit(5_000).catch(() => undefined)));
    await Promise.all([...bmcs.values()].map((b) => b.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('the second serve refuses to start, or only one of them acts on a dead host (one stop, one release)', async () => {
    const a = startServe();
    await waitFor('h1..h3 AVAILABLE on serve #1', 45_000, () => {
      if (!a.alive) throw new Error(`serve #1 exited ${a.exitCode}: ${a.stderr}`);
      const list = a.json<Event>();
      return HOSTS.every(
        (h) => list.filter((e) => e.type === 'resource.transition' && e.resource === h).at(-1)?.to === 'AVAILABLE',
      );
    });
    const b = startServe();
    // Give the second one time to start (or to refuse).
    await new Promise((r) => setTimeout(r, 8_000));
    const bmc2 = bmcs.get('h2')!;
    agents.get('h2')!.kill('SIGKILL');
    watch = onPowerCycle(bmc2.chassis, () => startAgent('h2'));
    await waitFor('a release of h2', 60_000, () =>
      serves.some((s) => s.json<Event>().some((e) => e.type === 'workloads.released' && e.resource === 'h2')),
    );
    // Let both finish whatever they started.
    await new Promise((r) => setTimeout(r, 15_000));
    const stops = bmc2.chassis.log.filter((c) => STOPS.includes(c));
    const released = serves.flatMap((s) =>
      s.json<Event>().filter((e) => e.type === 'workloads.released' && e.resource === 'h2'),
    );
    process.stderr.write(
      `      [serve #2 alive ${b.alive} exit ${String(b.exitCode)}; h2 chassis log ${JSON.stringify(bmc2.chassis.log)}]\n`,
    );
    for (const s of serves) {
      const ev = s.json<Event>();
      process.stderr.write(
        `      [${s.name}: ${ev.filter((e) => e.type === 'resource.transition').length} transitions, ` +
          `${ev.filter((e) => e.type === 'workloads.released').length} releases; stderr ${s.stderr.slice(0, 300)}]\n`,
      );
    }
    expect(stops, "h2's chassis: one stop in the episode").to.have.length(1);
    expect(released, 'released once across both processes').to.have.length(1);
  });
});
