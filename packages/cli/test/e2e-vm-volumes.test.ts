import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimBmc } from '@hafence/sim';
import { dumpChildren, e2eClusterYaml, freePorts, HafenceProcess, onPowerCycle, waitFor } from './e2e-kvm-processes.js';

const PASSWORD = 'E2e-Vol-Pw-2291';
const TOKEN = 'e2e-volume-token-8c3a1f6e0d';
const HOSTS = ['h1', 'h2', 'h3'] as const;
const STOPS = ['off', 'soft', 'cycle', 'reset'];

type Event = { t: number; type: string; [k: string]: unknown };

/** A "VM": a real process appending to its volume file every 200 ms, until killed. */
function startWriter(volume: string): ChildProcess {
  return spawn(
    process.execPath,
    ['-e', `const fs = require('node:fs'); setInterval(() => fs.appendFileSync(${JSON.stringify(volume)}, 'w'), 200);`],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/**
 * Issue 9's VM-volume e2e with real processes: three `hafence agent` processes whose VMs
 * are files on the shared temp dir, listed by `--vm-inventory file:…`, a writer process
 * per VM of h2, `hafence serve`, SimBmc over UDP. `kill -9` of h2's agent while its VMs
 * write must never power it off (DEGRADED); once the writers stop it is recovered by a
 * verified off/on like any dead host.
 */
describe('e2e: VM volume activity — kill -9 of an agent whose VMs keep writing (real processes)', function () {
  this.timeout(200_000);
  const dir = mkdtempSync(join(tmpdir(), 'hafence-e2e-volumes-'));
  const mount = join(dir, 'mount');
  const images = join(mount, 'images');
  const tokenFile = join(dir, 'agent.token');
  const configFile = join(dir, 'cluster.yaml');
  const children: HafenceProcess[] = [];
  const writers: ChildProcess[] = [];
  const bmcs = new Map<string, SimBmc>();
  const urls = new Map<string, string>();
  let serve: HafenceProcess;
  let restartWatch: NodeJS.Timeout | undefined;
  let killedAt = -1;

  const events = (): Event[] => serve.json<Event>();
  const h2 = (list: Event[]) => list.filter((e) => e.type === 'resource.transition' && e.resource === 'h2');
  const volumesOf = (host: string) => [1, 2].map((i) => join(images, `${host}-vm${i}.qcow2`));

  function startAgent(host: string): void {
    const peers = HOSTS.filter((h) => h !== host).flatMap((h) => ['--peer', `${h}=${urls.get(h)}`]);
    children.push(
      new HafenceProcess(`agent ${host}`, [
        'agent',
        '--host-id',
        host,
        '--mount',
        mount,
        '--listen',
        urls.get(host)!.replace('http://', ''),
        '--token-file',
        tokenFile,
        ...peers,
        '--watchdog',
        'none',
        '--stop-vms',
        'none',
        '--heartbeat-interval',
        '1s',
        '--self-fence-after',
        '30s',
        '--vm-inventory',
        `file:${join(dir, `vms-${host}.json`)}`,
      ]),
    );
  }

  before(async () => {
    mkdirSync(images, { recursive: true });
    writeFileSync(tokenFile, `${TOKEN}\n`);
    chmodSync(tokenFile, 0o600);
    const ports = await freePorts(HOSTS.length);
    for (const [i, h] of HOSTS.entries()) {
      urls.set(h, `http://127.0.0.1:${ports[i]}`);
      bmcs.set(h, await SimBmc.start({ users: [{ name: 'admin', password: PASSWORD, privilege: 4 }], power: 'ON' }));
      const [a, b] = volumesOf(h);
      for (const v of [a!, b!]) writeFileSync(v, 'disk');
      writeFileSync(join(dir, `vms-${h}.json`), JSON.stringify({ [`${h}-vm1`]: [a], [`${h}-vm2`]: [b] }));
    }
    for (const v of volumesOf('h2')) writers.push(startWriter(v));
    for (const h of HOSTS) startAgent(h);
    writeFileSync(configFile, clusterYaml());
    serve = new HafenceProcess('serve', ['serve', '--config', configFile, '--json'], { E2E_BMC_PW: PASSWORD });
    children.push(serve);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') dumpChildren(children, serve);
  });

  after(async () => {
    clearInterval(restartWatch);
    for (const w of writers) killGroup(w);
    for (const c of children) c.killGroup();
    await Promise.all(children.map((c) => c.waitExit(5_000).catch(() => undefined)));
    await Promise.all([...bmcs.values()].map((b) => b.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  function clusterYaml(): string {
    const hosts = HOSTS.map((h) => ({ id: h, agentUrl: urls.get(h)!, bmcPort: bmcs.get(h)!.port }));
    return e2eClusterYaml(hosts, tokenFile, {
      defaults: ['maxActivityChecks: 2', 'degradedRecheck: 8s'],
      kvm: 'volumeRefresh: 1s',
    });
  }

  it('all three hosts become AVAILABLE (their VM lists fetched by the passing health checks)', async () => {
    await waitFor('h1..h3 AVAILABLE', 45_000, () => {
      if (!serve.alive) throw new Error(`serve exited ${serve.exitCode}: ${serve.stderr}`);
      const list = events();
      return HOSTS.every(
        (h) => list.filter((e) => e.type === 'resource.transition' && e.resource === h).at(-1)?.to === 'AVAILABLE',
      );
    });
    await new Promise((r) => setTimeout(r, 2_000)); // a refresh or two more
    expect(serve.stderr).to.not.match(/could not list its VM volumes/);
  });

  it("kill -9 of h2's agent while its VMs write: DEGRADED, no power command, the reason names a volume", async () => {
    killedAt = events().length;
    const h2agent = children.find((c) => c.name === 'agent h2')!;
    h2agent.kill('SIGKILL');
    await waitFor('h2 DEGRADED', 60_000, () => h2(events().slice(killedAt)).some((e) => e.to === 'DEGRADED'));
    // The degraded alert is the next step after the transition: its line may arrive a moment later.
    const alerted = (list: Event[]) =>
      list.some((e) => e.type === 'alert' && e.code === 'degraded' && e.resource === 'h2');
    await waitFor('the degraded alert', 5_000, () => alerted(events().slice(killedAt))).catch(() => undefined);
    const after = events().slice(killedAt);
    const path = h2(after).map((e) => String(e.to));
    expect(path).to.not.include.members(['RECOVERING', 'FENCING', 'FENCED', 'FAILED']);
    const active = h2(after).find((e) => e.from === 'CHECKING');
    expect(String(active?.reason)).to.match(/activity-active.*VM volume .*h2-vm\d\.qcow2/);
    expect(after.filter((e) => e.type === 'power.action' && e.host === 'h2')).to.deep.equal([]);
    expect(after.filter((e) => e.type === 'workloads.released')).to.deep.equal([]);
    expect(alerted(after)).to.equal(true);
    expect(bmcs.get('h2')!.chassis.log).to.deep.equal([]);
  });

  it('the writers stop: the next recheck sees nothing written, h2 is recovered by a verified off/on and comes back', async () => {
    const bmc2 = bmcs.get('h2')!;
    for (const w of writers) killGroup(w);
    restartWatch = onPowerCycle(bmc2.chassis, () => startAgent('h2'));
    await waitFor('h2 AVAILABLE again', 120_000, () => h2(events().slice(killedAt)).some((e) => e.to === 'AVAILABLE'));
    const after = events().slice(killedAt);
    const path = h2(after).map((e) => String(e.to));
    expect(path.indexOf('DEGRADED')).to.be.lessThan(path.indexOf('RECOVERING'));
    expect(path).to.not.include.members(['FENCING', 'FENCED', 'FAILED']);
    const recovering = h2(after).find((e) => e.to === 'RECOVERING');
    expect(String(recovering?.reason), JSON.stringify(recovering)).to.match(
      /heartbeat #\d+ unchanged over \d+ ms; 2 VM volume\(s\) unchanged/,
    );
    expect(after.filter((e) => e.type === 'workloads.released')).to.have.length(1);
    expect(bmc2.chassis.log.filter((c) => STOPS.includes(c))).to.deep.equal(['off']);
    for (const h of ['h1', 'h3']) expect(bmcs.get(h)!.chassis.log, h).to.deep.equal([]);
  });

  it('the token and the BMC password appear in no output', () => {
    for (const c of children)
      expect(c.stdoutLines.join('\n') + c.stderr, c.name)
        .to.not.include(PASSWORD)
        .and.not.include(TOKEN);
  });
});
