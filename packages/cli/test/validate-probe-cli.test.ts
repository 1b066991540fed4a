import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HafenceProcess, freePorts, startE2eAgent } from './e2e-kvm-processes.js';
import { CliSims } from './power-sim-helper.js';

/** Two ipmi_sim BMCs on UDP 9347-9348 (no other test uses them). */
const FIRST = 9347;
/** A UDP port where nothing answers (ipmi_sim ports are 9347-9348). */
const CLOSED_UDP = 9349;
const TOKEN = 'validate-probe-token-0123456789abcdef';
const WRONG = 'Not-The-Pw-77';

type Row = { host: string; cluster: string; bmc: { result: string; detail?: string }; agent: { result: string } };

describe('hafence validate --probe (real ipmi_sim BMCs, a real hafence agent)', function () {
  this.timeout(60_000);
  let sims: CliSims;
  let dir: string;
  let agentUrl: string;
  let deadUrl: string;
  const children: HafenceProcess[] = [];

  /** One host line of the cluster file; cipher suite 3 (ipmi_sim 2.0.33 has no 17). */
  const host = (id: string, bmcPort: number, pwEnv: string, url: string) =>
    `  ${id}:\n    cluster: c1\n    agent: { url: "${url}" }\n` +
    `    bmc: { address: 127.0.0.1, port: ${bmcPort}, username: admin, passwordEnv: ${pwEnv}, cipherSuite: 3 }\n`;
  const clusterFile = (name: string, hosts: string[]): string => {
    const path = join(dir, name);
    writeFileSync(
      path,
      `agentTokenFile: ${join(dir, 'agent.token')}\nzones: { z1: {} }\npods: { p1: { zone: z1 } }\n` +
        `clusters: { c1: { pod: p1 } }\nhosts:\n${hosts.join('')}`,
    );
    return path;
  };
  /** Runs `hafence validate` as a real process; reads its argv while it runs. */
  const validate = async (args: string[]) => {
    const p = new HafenceProcess('validate', ['validate', ...args], { GOOD_PW: sims.password, BAD_PW: WRONG });
    children.push(p);
    p.readCmdline();
    const code = await p.waitExit(30_000);
    return { code, stdout: p.stdoutLines.join('\n'), stderr: p.stderr, cmdline: p.cmdline };
  };
  const rowsOf = (stdout: string) => (JSON.parse(stdout) as { probe: Row[] }).probe;
  const cells = (rows: Row[]) => Object.fromEntries(rows.map((r) => [r.host, [r.bmc.result, r.agent.result]]));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hafence-validate-probe-'));
    writeFileSync(join(dir, 'agent.token'), `${TOKEN}\n`);
    chmodSync(join(dir, 'agent.token'), 0o600);
    mkdirSync(join(dir, 'mount'));
    sims = await CliSims.start(2, FIRST);
    const [agentPort, deadPort] = await freePorts(2);
    agentUrl = `http://127.0.0.1:${agentPort}`;
    deadUrl = `http://127.0.0.1:${deadPort}`;
    const agent = startE2eAgent('kvm1', {
      mount: join(dir, 'mount'),
      tokenFile: join(dir, 'agent.token'),
      urls: new Map([['kvm1', agentUrl]]),
    });
    children.push(agent);
    let healthy = false;
    for (let i = 0; i < 100 && !healthy; i++) {
      healthy = await fetch(`${agentUrl}/health`, { headers: { authorization: `Bearer ${TOKEN}` } })
        .then((r) => r.ok)
        .catch(() => false);
      if (!agent.alive) throw new Error(`agent exited: ${agent.stderr}`);
      if (!healthy) await new Promise((r) => setTimeout(r, 100));
    }
    expect(healthy, 'the agent answers /health').to.equal(true);
  });

  after(async () => {
    for (const c of children) c.killGroup();
    await Promise.all(children.map((c) => c.waitExit(5_000).catch(() => undefined)));
    await sims?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('good credentials, a wrong password, a closed port; an agent up and one down: each row, exit 4 (the worst)', async () => {
    const file = clusterFile('mixed.yaml', [
      host('good', FIRST, 'GOOD_PW', agentUrl),
      host('badpw', FIRST + 1, 'BAD_PW', deadUrl),
      host('closed', CLOSED_UDP, 'GOOD_PW', agentUrl),
    ]);
    const r = await validate(['--config', file, '--probe', '--json', '--timeout-ms', '2000']);
    expect(r.code, r.stderr).to.equal(4);
    const rows = rowsOf(r.stdout);
    expect(rows.map((x) => x.host)).to.deep.equal(['good', 'badpw', 'closed']);
    expect(cells(rows)).to.deep.equal({
      good: ['ok', 'ok'],
      badpw: ['auth refused', 'unreachable'],
      closed: ['unreachable', 'ok'],
    });
    expect(rows[0]!.bmc.detail).to.equal('power off');
    expect((JSON.parse(r.stdout) as { exitCode: number }).exitCode).to.equal(4);
    for (const text of [r.stdout, r.stderr, r.cmdline]) {
      expect(text).not.to.include(sims.password);
      expect(text).not.to.include(WRONG);
      expect(text).not.to.include(TOKEN);
    }
    expect(r.cmdline, 'argv was read while validate ran').to.include('validate');
    // A status read only: the chassis stayed off.
    expect(sims.power(FIRST)).to.equal('OFF');
  });

  it('a wrong password with every agent up exits 3; every host good exits 0', async () => {
    const auth = clusterFile('auth.yaml', [
      host('good', FIRST, 'GOOD_PW', agentUrl),
      host('badpw', FIRST + 1, 'BAD_PW', agentUrl),
    ]);
    const a = await validate(['--config', auth, '--probe', '--json', '--timeout-ms', '2000']);
    expect(a.code, a.stderr).to.equal(3);
    expect(cells(rowsOf(a.stdout))).to.deep.equal({ good: ['ok', 'ok'], badpw: ['auth refused', 'ok'] });

    const ok = clusterFile('ok.yaml', [host('good', FIRST, 'GOOD_PW', agentUrl)]);
    const o = await validate(['--config', ok, '--probe', '--json']);
    expect(o.code, o.stderr).to.equal(0);
    expect(cells(rowsOf(o.stdout))).to.deep.equal({ good: ['ok', 'ok'] });
  });

  it('without --probe: a good file exits 0 and touches no BMC; three bad fields exit 2 naming all three', async () => {
    const good = clusterFile('good.yaml', [host('good', CLOSED_UDP, 'GOOD_PW', deadUrl)]);
    const g = await validate(['--config', good, '--json']);
    expect(g.code, g.stderr).to.equal(0);
    expect(JSON.parse(g.stdout)).to.deep.equal({ valid: true, hosts: 1, exitCode: 0 });

    const bad = clusterFile('bad.yaml', [
      host('p', 70000, 'GOOD_PW', agentUrl), // port out of range
      host('u', FIRST, 'GOOD_PW', 'ftp://example.org'), // not an http(s) agent URL
      host('e', FIRST + 1, '1-not-a-name', agentUrl), // passwordEnv is not a variable name
    ]);
    const b = await validate(['--config', bad, '--json']);
    expect(b.code).to.equal(2);
    const issues = (JSON.parse(b.stdout) as { valid: boolean; issues: { path: string }[] }).issues;
    expect(issues.map((i) => i.path)).to.have.members([
      'hosts.p.bmc.port',
      'hosts.u.agent.url',
      'hosts.e.bmc.passwordEnv',
    ]);
    // The schema first; the credentials of a file that parses are resolved next, each unset one named too.
    const creds = clusterFile('creds.yaml', [
      host('a', FIRST, 'UNSET_PW_A', agentUrl),
      host('b', FIRST + 1, 'UNSET_PW_B', agentUrl),
      host('c', FIRST + 2, 'UNSET_PW_C', agentUrl),
    ]);
    const c = await validate(['--config', creds]);
    expect(c.code).to.equal(2);
    expect(c.stderr).to.include('3 invalid fields');
    for (const h of ['a', 'b', 'c']) expect(c.stderr).to.include(`hosts.${h}.bmc.passwordEnv`);
  });

  it('checks the store as serve would before it opens it (an unset passwordEnv, a missing SQLite directory)', async () => {
    const pg = clusterFile('pg.yaml', [host('good', FIRST, 'GOOD_PW', agentUrl)]);
    writeFileSync(
      pg,
      `store: { url: "postgres://hafence@db1/hafence", passwordEnv: UNSET_DB_PW }\n${readFileSync(pg, 'utf8')}`,
    );
    const p = await validate(['--config', pg, '--json']);
    expect(p.code).to.equal(2);
    expect((JSON.parse(p.stdout) as { issues: { path: string }[] }).issues.map((i) => i.path)).to.deep.equal([
      'store.passwordEnv',
    ]);
    const sq = clusterFile('sq.yaml', [host('good', FIRST, 'GOOD_PW', agentUrl)]);
    writeFileSync(sq, `store: sqlite:${join(dir, 'no-such-dir', 'state.sqlite')}\n${readFileSync(sq, 'utf8')}`);
    const q = await validate(['--config', sq, '--json']);
    expect(q.code).to.equal(2);
    expect((JSON.parse(q.stdout) as { issues: { path: string }[] }).issues.map((i) => i.path)).to.deep.equal(['store']);
  });

  it('the terminal table: a row per host with its BMC and agent results and short details', async () => {
    const { formatProbeTable } = (await import(
      new URL('../../dist/validate/probe-table.js', import.meta.url).href
    )) as {
      formatProbeTable(rows: Row[]): string;
    };
    const text = formatProbeTable([
      { host: 'kvm1', cluster: 'c1', bmc: { result: 'ok', detail: 'power on' }, agent: { result: 'ok' } },
      { host: 'kvm2', cluster: 'c1', bmc: { result: 'auth refused', detail: 'x' }, agent: { result: 'unreachable' } },
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]!.split(/\s{2,}/)).to.deep.equal(['HOST', 'CLUSTER', 'BMC', 'AGENT', 'DETAIL']);
    expect(lines[1]!.split(/\s{2,}/)).to.deep.equal(['kvm1', 'c1', 'ok', 'ok', 'bmc: power on']);
    expect(lines[2]!.split(/\s{2,}/)).to.deep.equal(['kvm2', 'c1', 'auth refused', 'unreachable', 'bmc: x']);
  });
});
