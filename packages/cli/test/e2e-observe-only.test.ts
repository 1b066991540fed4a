import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './e2e-kvm-processes.js';
import { ServeRig, stateOf, type ServeEvent } from './serve-rig.js';

const PASSWORD = 'E2e-Observe-Pw-7731';
const TOKEN = 'e2e-observe-token-8c41d0a7e2';
const HOSTS = ['h1', 'h2', 'h3'] as const;

/** The armGen in a host's heartbeat file on the shared mount (0: no arm or disarm ever reached its agent). */
function armGenOf(rig: ServeRig, host: string): number {
  const text = readFileSync(join(rig.setup.mount, 'hafence', `hb-${host}`), 'utf8');
  return Number((JSON.parse(text) as { armGen?: number }).armGen ?? 0);
}

/**
 * Issue 12, must show: `hafence serve --observe-only` beside real `hafence agent` processes and SimBmc BMCs. A host
 * crash (its agent killed, the host's heartbeat stops) is detected and decided — `would.power.action` with action
 * `off` on stdout — while the BMCs' power logs stay empty and no agent is ever armed. A restart on the same SQLite
 * state with the zone observe-only in the cluster file (`zones.z1.observeOnly`, the cluster inside it covered) decides
 * the same again, as a readable line.
 */
describe('e2e: hafence serve --observe-only (real processes)', function () {
  this.timeout(120_000);
  const rig = new ServeRig({ name: 'e2e-observe', password: PASSWORD, token: TOKEN, hosts: HOSTS });
  const { bmcs, agents } = rig;
  const would = (list: readonly ServeEvent[], host: string) =>
    list.filter((e) => e.type === 'would.power.action' && e.resource === host);

  before(async () => {
    await rig.start({ serve: false });
    rig.startServe(['--observe-only']);
  });

  afterEach(function () {
    rig.dumpIfFailed(this.currentTest);
  });

  after(() => rig.close());

  it('every host becomes AVAILABLE; serve says it observes only', async () => {
    await rig.allAvailable();
    expect(rig.serve.stderr).to.include('observe-only');
    for (const h of HOSTS) expect(armGenOf(rig, h), `${h}: no arm request reached its agent`).to.equal(0);
  });

  it('a crash of h2 is detected and decided (would.power.action off); no BMC receives a power command', async () => {
    const serve = rig.serve;
    agents.get('h2')!.kill('SIGKILL');
    const decided = await waitFor('would.power.action for h2', 60_000, () => {
      if (!serve.alive) throw new Error(`serve exited ${serve.exitCode}: ${serve.stderr}`);
      return would(serve.json<ServeEvent>(), 'h2')[0];
    });
    expect(decided).to.deep.include({ host: 'h2', resourceType: 'host', action: 'off', by: 'ha' });
    const path = serve
      .json<ServeEvent>()
      .filter((e) => e.type === 'resource.transition' && e.resource === 'h2')
      .map((e) => `${String(e.from)}→${String(e.to)}`);
    expect(path).to.include.members(['AVAILABLE→SUSPECT', 'CHECKING→RECOVERING']);
    // Held, not retried: a few seconds later still one decision, no further state, nothing sent.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const list = serve.json<ServeEvent>();
    expect(would(list, 'h2')).to.have.length(1);
    expect(stateOf('h2', list)).to.equal('RECOVERING');
    expect(list.filter((e) => e.type === 'power.action')).to.deep.equal([]);
    expect(list.filter((e) => e.type === 'workloads.released')).to.deep.equal([]);
    for (const h of HOSTS) {
      expect(bmcs.get(h)!.chassis.log, `${h}: BMC power log`).to.deep.equal([]);
      expect(bmcs.get(h)!.chassis.power, h).to.equal('ON');
    }
    for (const h of ['h1', 'h3']) expect(armGenOf(rig, h), h).to.equal(0);
  });

  it("restarted without the flag but with the zone's observeOnly in the file: decided again, as a readable line; still nothing sent", async () => {
    rig.serve.kill('SIGTERM');
    expect(await rig.serve.waitExit(25_000)).to.equal(0);
    const yaml = readFileSync(rig.configFile, 'utf8');
    expect(yaml).to.include('zones: { z1: {} }');
    writeFileSync(rig.configFile, yaml.replace('zones: { z1: {} }', 'zones: { z1: { observeOnly: true } }'));
    const second = rig.startServe([], { json: false });
    const line = await waitFor('the readable would-be line', 60_000, () => {
      if (!second.alive) throw new Error(`serve #2 exited ${second.exitCode}: ${second.stderr}`);
      return second.stdoutLines.find((l) => /\bh2\s+WOULD power off by ha \(observe-only: not sent\)$/.test(l));
    });
    expect(line).to.match(/^\d{4}-\d\d-\d\dT/);
    for (const h of HOSTS) expect(bmcs.get(h)!.chassis.log, `${h}: BMC power log`).to.deep.equal([]);
    second.kill('SIGTERM');
    expect(await second.waitExit(25_000)).to.equal(0);
    for (const c of rig.children)
      expect(c.stdoutLines.join('\n') + c.stderr, c.name)
        .to.not.include(PASSWORD)
        .and.not.include(TOKEN);
  });
});
