import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret } from '@hafence/core';
import { SimBmc } from '@hafence/sim';
import { HostAgent, NO_WATCHDOG } from '@hafence/provider-kvm';
import { dumpChildren, HafenceProcess, waitFor } from './e2e-kvm-processes.js';

const PASSWORD = 'Cold-Start-Pw-2231';
const TOKEN = 'cold-start-agent-token-8e41a0';
const HOSTS = Array.from({ length: 24 }, (_, i) => `h${i + 1}`);

type Event = { t: number; type: string; [k: string]: unknown };

/**
 * Issue 13, "cold start judges before it knows": agents without a watchdog hold no armed self-fence lease, so each
 * host's eligibility hangs on its power. Power is read every 3 s and health every 1 s (the default 30 s / 10 s ratio):
 * without reading power first, most hosts were judged on a power state nobody had read yet and went
 * INITIALIZING → UNSUPPORTED ("no reachable controller and no armed self-fence lease") → INITIALIZING. Read first,
 * every host takes the one step from INITIALIZING to AVAILABLE. The agents and SimBmcs run in this process (the agents
 * are the real `HostAgent`), `hafence serve` in its own.
 */
describe('serve cold start: the power is read before eligibility is judged (real serve, 24 hosts)', function () {
  this.timeout(90_000);
  const dir = mkdtempSync(join(tmpdir(), 'hafence-cold-start-'));
  const tokenFile = join(dir, 'agent.token');
  const configFile = join(dir, 'cluster.yaml');
  const bmcs: SimBmc[] = [];
  const agents: HostAgent[] = [];
  let serve: HafenceProcess | undefined;

  before(async () => {
    writeFileSync(tokenFile, `${TOKEN}\n`);
    chmodSync(tokenFile, 0o600);
    mkdirSync(join(dir, 'mount'));
    const lines: string[] = [];
    for (const [i, id] of HOSTS.entries()) {
      const bmc = await SimBmc.start({ users: [{ name: 'admin', password: PASSWORD, privilege: 4 }], power: 'ON' });
      bmcs.push(bmc);
      const agent = new HostAgent({
        hostId: id,
        mount: join(dir, 'mount'),
        token: new Secret(TOKEN),
        watchdog: NO_WATCHDOG,
        listen: { port: 0 },
      });
      agents.push(agent);
      const { port } = await agent.start();
      lines.push(`  ${id}:
    cluster: c${1 + (i % 2)}
    agent: { url: "http://127.0.0.1:${port}" }
    bmc: { address: 127.0.0.1, port: ${bmc.port}, username: admin, passwordEnv: E2E_BMC_PW, cipherSuite: 17 }`);
    }
    writeFileSync(
      configFile,
      `ha:
  powerSyncInterval: 3s
  defaults: { healthCheckInterval: 1s, healthCheckTimeout: 5s }
agentTokenFile: ${tokenFile}
zones: { z1: {} }
pods: { p1: { zone: z1 } }
clusters: { c1: { pod: p1 }, c2: { pod: p1 } }
hosts:
${lines.join('\n')}
`,
    );
  });

  after(async () => {
    serve?.killGroup();
    await serve?.waitExit(5_000).catch(() => undefined);
    await Promise.allSettled(agents.map((a) => a.stop()));
    await Promise.allSettled(bmcs.map((b) => b.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && serve) dumpChildren([serve], serve);
  });

  it('every host goes NONE → INITIALIZING → AVAILABLE, no host through UNSUPPORTED', async () => {
    const s = new HafenceProcess('serve', ['serve', '--config', configFile, '--json'], { E2E_BMC_PW: PASSWORD });
    serve = s;
    const path = (host: string, list: Event[]) =>
      list.filter((e) => e.type === 'resource.transition' && e.resource === host).map((e) => String(e.to));
    await waitFor('every host AVAILABLE', 60_000, () => {
      if (!s.alive) throw new Error(`serve exited ${s.exitCode}: ${s.stderr}`);
      const list = s.json<Event>();
      return HOSTS.every((h) => path(h, list).at(-1) === 'AVAILABLE');
    });
    const list = s.json<Event>();
    const paths = Object.fromEntries(HOSTS.map((h) => [h, path(h, list).join(' → ')]));
    expect(paths).to.deep.equal(Object.fromEntries(HOSTS.map((h) => [h, 'INITIALIZING → AVAILABLE'])));
  });
});
