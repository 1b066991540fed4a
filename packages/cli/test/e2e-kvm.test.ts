import { expect } from 'chai';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimBmc } from '@hafence/sim';
import { dumpChildren, e2eClusterYaml, freePorts, HafenceProcess, onPowerCycle, waitFor } from './e2e-kvm-processes.js';
import { hafence } from './power-sim-helper.js';

const PASSWORD = 'E2e-Bmc-Pw-7341'; // IPMI 2.0 passwords are at most 20 bytes
const TOKEN = 'e2e-agent-token-5b1f0c7d9e2a4';
const HOSTS = ['h1', 'h2', 'h3'] as const;
const STOPS = ['off', 'soft', 'cycle', 'reset'];

type Event = { t: number; type: string; [k: string]: unknown };

/**
 * The issue's end-to-end test with real processes: three `hafence agent` processes on a
 * temp dir as the shared mount, `hafence serve` as a fourth, SimBmc over UDP in this
 * process. `kill -9` of h2's agent must end in a verified power off/on, one release,
 * and h2 AVAILABLE again once its agent "boots" (is restarted after the power-on).
 */
describe('e2e: hafence agent ×3 + hafence serve, SimBmc over UDP (real processes)', function () {
  this.timeout(110_000);
  const dir = mkdtempSync(join(tmpdir(), 'hafence-e2e-kvm-'));
  const mount = join(dir, 'mount');
  const tokenFile = join(dir, 'agent.token');
  const configFile = join(dir, 'cluster.yaml');
  const children: HafenceProcess[] = [];
  const bmcs = new Map<string, SimBmc>();
  const urls = new Map<string, string>();
  const agents = new Map<string, HafenceProcess>();
  let serve: HafenceProcess;
  let restartWatch: NodeJS.Timeout | undefined;
  let killedAt = -1;

  const events = (): Event[] => serve.json<Event>();
  const stateOf = (host: string, list = events()) =>
    list.filter((e) => e.type === 'resource.transition' && e.resource === host).at(-1)?.to;
  const listenOf = (host: string) => urls.get(host)!.replace('http://', '');

  function startAgent(host: string): HafenceProcess {
    const peers = HOSTS.filter((h) => h !== host).flatMap((h) => ['--peer', `${h}=${urls.get(h)}`]);
    const p = new HafenceProcess(`agent ${host}`, [
      'agent',
      '--host-id',
      host,
      '--mount',
      mount,
      '--listen',
      listenOf(host),
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
    ]);
    children.push(p);
    agents.set(host, p);
    return p;
  }

  before(async () => {
    writeFileSync(tokenFile, `${TOKEN}\n`);
    chmodSync(tokenFile, 0o600);
    const ports = await freePorts(HOSTS.length);
    for (const [i, h] of HOSTS.entries()) {
      urls.set(h, `http://127.0.0.1:${ports[i]}`);
      bmcs.set(h, await SimBmc.start({ users: [{ name: 'admin', password: PASSWORD, privilege: 4 }], power: 'ON' }));
    }
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
    for (const c of children) c.killGroup();
    await Promise.all(children.map((c) => c.waitExit(5_000).catch(() => undefined)));
    await Promise.all([...bmcs.values()].map((b) => b.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  function clusterYaml(): string {
    return e2eClusterYaml(
      HOSTS.map((h) => ({ id: h, agentUrl: urls.get(h)!, bmcPort: bmcs.get(h)!.port })),
      tokenFile,
    );
  }

  it('all three hosts become AVAILABLE', async () => {
    await waitFor('h1..h3 AVAILABLE', 45_000, () => {
      if (!serve.alive) throw new Error(`serve exited ${serve.exitCode}: ${serve.stderr}`);
      const list = events();
      return HOSTS.every((h) => stateOf(h, list) === 'AVAILABLE');
    });
  });

  it("kill -9 of h2's agent: verified off, workloads released once, power on, h2 AVAILABLE again", async () => {
    const bmc2 = bmcs.get('h2')!;
    killedAt = events().length;
    for (const c of children) c.readCmdline();
    agents.get('h2')!.kill('SIGKILL');
    // The host "boots" when its chassis went OFF and then ON again: restart its agent.
    restartWatch = onPowerCycle(bmc2.chassis, () => startAgent('h2'));
    await waitFor('h2 AVAILABLE again', 90_000, () => {
      const after = events().slice(killedAt);
      return after.some((e) => e.type === 'resource.transition' && e.resource === 'h2' && e.to === 'AVAILABLE');
    });
    const after = events().slice(killedAt);
    const path = after.filter((e) => e.type === 'resource.transition' && e.resource === 'h2').map((e) => String(e.to));
    expect(path[0]).to.equal('SUSPECT');
    expect(path).to.include.members(['CHECKING', 'RECOVERING', 'INITIALIZING']);
    expect(path.indexOf('CHECKING')).to.be.lessThan(path.indexOf('RECOVERING'));
    expect(path.indexOf('RECOVERING')).to.be.lessThan(path.lastIndexOf('AVAILABLE'));
    expect(path).to.not.include.members(['FENCING', 'FENCED', 'FAILED']);

    const at = (pred: (e: Event) => boolean) => after.findIndex(pred);
    const off = at(
      (e) => e.type === 'power.action' && e.host === 'h2' && e.action === 'off' && e.by === 'ha' && e.ok === true,
    );
    const readOff = at((e) => e.type === 'power.transition' && e.host === 'h2' && e.from === 'ON' && e.to === 'OFF');
    const released = at((e) => e.type === 'workloads.released' && e.resource === 'h2');
    const on = at(
      (e) => e.type === 'power.action' && e.host === 'h2' && e.action === 'on' && e.by === 'ha' && e.ok === true,
    );
    expect(
      [off, readOff, released, on].every((i) => i >= 0),
      `off ${off}, read OFF ${readOff}, released ${released}, on ${on}`,
    ).to.equal(true);
    expect(off).to.be.lessThan(readOff);
    expect(readOff).to.be.lessThan(released);
    expect(released).to.be.lessThan(on);
    expect(after[released]).to.deep.include({ host: 'h2', proof: 'power-off' });

    const all = events();
    expect(all.filter((e) => e.type === 'workloads.released')).to.have.length(1);
    expect(bmc2.chassis.log.filter((c) => STOPS.includes(c))).to.deep.equal(['off']);
    for (const h of ['h1', 'h3']) {
      expect(
        all.filter((e) => e.type === 'power.action' && e.host === h && STOPS.includes(String(e.action))),
        h,
      ).to.deep.equal([]);
      expect(bmcs.get(h)!.chassis.log, h).to.deep.equal([]);
      expect(bmcs.get(h)!.chassis.power).to.equal('ON');
    }
    expect(bmc2.chassis.power).to.equal('ON');
  });

  it("the BMC password is in no child's argv and in none of their output", () => {
    for (const c of children) {
      expect(c.readCmdline(), c.name).to.include('bin.js').and.not.include(PASSWORD);
      expect(c.stdoutLines.join('\n') + c.stderr, c.name)
        .to.not.include(PASSWORD)
        .and.not.include(TOKEN);
    }
  });

  it('hafence serve stops cleanly on SIGTERM (exit 0)', async () => {
    serve.kill('SIGTERM');
    // Running checks finish within their timeout (health 5 s) before the process exits.
    expect(await serve.waitExit(25_000)).to.equal(0);
    expect(serve.stderr).to.include('"stopped"');
  });
});

describe('hafence serve: a bad cluster file', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'hafence-serve-bad-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const base = (bmc: string) => `agentTokenFile: ${join(dir, 'token')}
zones: { z1: {} }
pods: { p1: { zone: z1 } }
clusters: { c1: { pod: p1 } }
hosts:
  h1: { cluster: c1, agent: { url: "http://127.0.0.1:9" }, bmc: ${bmc} }
`;

  it('exits 2 naming each bad field, never echoing an inline password, and starts nothing', async () => {
    const r = await hafence([
      'serve',
      '--config',
      file('bad.yaml', base('{ address: 10.0.0.1, port: 70000, username: admin, password: Inline-Pw-99 }')),
    ]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('hosts.h1.bmc.port').and.include('hosts.h1.bmc').and.include('password');
    expect(r.stderr + r.stdout).to.not.include('Inline-Pw-99');
    expect(r.stdout).to.equal('');
  });

  const okBmc = '{ address: 10.0.0.1, username: admin, passwordEnv: HAFENCE_E2E_BMC_PW }';
  const withHa = (name: string, ha: string) => file(name, `ha: ${ha}\n${base(okBmc)}`);

  it('exits 2 naming an ha: override of a zone, pod, cluster or host the file does not list (SPEC §4)', async () => {
    const r = await hafence([
      'serve',
      '--config',
      withHa('targets.yaml', '{ hosts: { kvm9: { quietPeriod: 5m } }, clusters: { cX: {} }, zones: { z1: {} } }'),
    ]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('ha.hosts.kvm9').and.include('ha.clusters.cX').and.not.include('ha.zones.z1');
    expect(r.stdout).to.equal('');
  });

  it('exits 2 naming a zero timeout, a quietPeriod below healthCheckInterval in an override, and a recoverTimeout below its floor', async () => {
    const zero = await hafence(['serve', '--config', withHa('zero.yaml', '{ defaults: { fenceTimeout: 0 } }')]);
    expect(zero.code).to.equal(2);
    expect(zero.stderr).to.include('ha.defaults.fenceTimeout = 0');
    const quiet = await hafence([
      'serve',
      '--config',
      withHa('quiet.yaml', '{ clusters: { c1: { healthCheckInterval: 1m, quietPeriod: 30s } } }'),
    ]);
    expect(quiet.code).to.equal(2);
    expect(quiet.stderr).to.include('ha.clusters.c1.quietPeriod = 30000');
    const floor = await hafence([
      'serve',
      '--config',
      withHa('floor.yaml', '{ hosts: { h1: { powerOpTimeout: 40s } } }'),
    ]);
    expect(floor.code).to.equal(2);
    expect(floor.stderr)
      .to.include('ha.hosts.h1.recoverTimeout = 120000')
      .and.include('ha.hosts.h1.fenceTimeout = 90000');
    const kvm = await hafence(['serve', '--config', file('kvm.yaml', `kvm: { leaseMargin: 25h }\n${base(okBmc)}`)]);
    expect(kvm.code).to.equal(2);
    expect(kvm.stderr).to.include('kvm.leaseMargin');
  });

  it("exits 2 naming the host's passwordEnv when the variable is unset or too long for IPMI, and the token file when unreadable", async () => {
    writeFileSync(join(dir, 'token'), 'a-token-of-enough-length-1234\n', { mode: 0o600 });
    const r = await hafence([
      'serve',
      '--config',
      file('env.yaml', base('{ address: 10.0.0.1, username: admin, passwordEnv: HAFENCE_E2E_UNSET_VAR }')),
    ]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('hosts.h1.bmc.passwordEnv');
    const long = await hafence(['serve', '--config', join(dir, 'env.yaml')], {
      HAFENCE_E2E_UNSET_VAR: 'a-password-of-27-bytes-long',
    });
    expect(long.code).to.equal(2);
    expect(long.stderr)
      .to.include('hosts.h1.bmc.passwordEnv')
      .and.include('20 bytes')
      .and.not.include('a-password-of-27');
    rmSync(join(dir, 'token'));
    const t = await hafence(['serve', '--config', join(dir, 'env.yaml')]);
    expect(t.code).to.equal(2);
    expect(t.stderr).to.include('agentTokenFile');
  });
});
