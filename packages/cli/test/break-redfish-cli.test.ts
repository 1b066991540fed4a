import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer as createTlsServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedfishSim, generateSelfSignedCertificate } from '@hafence/sim';
import { HAFENCE_BIN, hafence, within } from './power-sim-helper.js';

/**
 * Outside attacks on `hafence power … --driver redfish` and `hafence validate --probe` (issue 14),
 * as real processes. Titles ending "(found from outside)"
 * failed on the code they were written against (fixed since).
 */
const PASSWORD = 'cli-break-rf-pw-77';

describe('break: hafence power --driver redfish / validate --probe (real processes)', function () {
  this.timeout(90_000);
  const dir = mkdtempSync(join(tmpdir(), 'hafence-break-rf-'));
  const env = { BMC_PW: PASSWORD };
  let sim: RedfishSim;
  let hang: Server;
  let hangPort = 0;
  const ca = join(dir, 'ca.pem');
  const base = (action: string, host: string, ...extra: string[]) => [
    'power',
    action,
    '--driver',
    'redfish',
    '--host',
    host,
    '--username',
    'admin',
    '--password-env',
    'BMC_PW',
    '--ca-file',
    ca,
    ...extra,
  ];

  before(async () => {
    sim = new RedfishSim({ username: 'admin', password: PASSWORD, variant: 'generic', initialPower: 'Off' });
    await sim.start();
    writeFileSync(ca, sim.certPem);
    const pem = generateSelfSignedCertificate({ notBeforeMs: Date.now() - 60_000 });
    // a BMC that accepts TLS and then never answers anything
    hang = createTlsServer({ cert: pem.certPem, key: pem.keyPem }, () => undefined);
    await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
    const a = hang.address();
    hangPort = typeof a === 'object' && a ? a.port : 0;
    writeFileSync(join(dir, 'hang-ca.pem'), pem.certPem);
  });
  after(async () => {
    hang.closeAllConnections();
    await new Promise<void>((resolve) => hang.close(() => resolve()));
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('held: the rig works (status off, exit 0)', async () => {
    expect(await hafence(base('status', `127.0.0.1:${sim.port}`), env)).to.deep.include({ code: 0, stdout: 'off\n' });
  });

  it('hostile --host values exit 2 naming the option, and never reach a BMC', async () => {
    const before = sim.stats;
    for (const host of [
      `127.0.0.1:${sim.port}\nX-Evil: 1`,
      `https://127.0.0.1:${sim.port}/redfish/v1`,
      `admin:pw@127.0.0.1:${sim.port}`,
      '127.0.0.1:99999999999',
      '127.0.0.1:-1',
      '127.0.0.1:0',
      `127.0.0.1:${sim.port}/../../etc`,
      '',
      ' ',
      '[::1',
    ]) {
      const r = await hafence(base('status', host), env);
      expect(r.code, `${JSON.stringify(host)}: ${r.stderr}`).to.equal(2);
      expect(r.stderr).to.include('host');
    }
    expect(JSON.stringify(sim.stats)).to.equal(JSON.stringify(before));
  });

  it('hostile --system-id values (newline, slashes, URL) exit 2 or 5, never reach another path', async () => {
    for (const id of [
      '1\n2',
      '../../Managers/1',
      `https://127.0.0.1:${sim.port}/redfish/v1/Systems/1`,
      'x'.repeat(10_000),
    ]) {
      const r = await hafence(base('status', `127.0.0.1:${sim.port}`, '--system-id', id), env);
      expect(r.code, `${JSON.stringify(id.slice(0, 40))}: ${r.stderr}`).to.be.oneOf([2, 5]);
    }
  });

  it('a BMC that accepts TLS and never answers: exit 4 within --timeout-ms', async () => {
    const r = await hafence(
      [
        'power',
        'status',
        '--driver',
        'redfish',
        '--host',
        `127.0.0.1:${hangPort}`,
        '--username',
        'admin',
        '--password-env',
        'BMC_PW',
        '--ca-file',
        join(dir, 'hang-ca.pem'),
        '--timeout-ms',
        '1500',
      ],
      env,
    );
    expect(r.code, r.stderr).to.equal(4);
    expect(r.ms).to.be.lessThan(1500 + 3000);
    expect(r.stdout + r.stderr).to.not.include(PASSWORD);
  });

  it('the password is never in argv (ps) nor output; a --password flag is refused', async () => {
    const child = spawn(
      process.execPath,
      [
        HAFENCE_BIN,
        ...base('status', `127.0.0.1:${hangPort}`, '--timeout-ms', '3000', '--ca-file', join(dir, 'hang-ca.pem')),
      ],
      { env: { ...process.env, ...env }, stdio: 'ignore' },
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const ps = await new Promise<string>((resolve) =>
      execFile('ps', ['-eo', 'args'], { maxBuffer: 16 << 20 }, (_e, out) => resolve(String(out))),
    );
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
    } catch {
      cmdline = '';
    }
    child.kill('SIGKILL');
    expect(ps).to.not.include(PASSWORD);
    expect(cmdline).to.not.include(PASSWORD);
    const r = await hafence([...base('status', `127.0.0.1:${sim.port}`), '--password', PASSWORD], env);
    expect(r.code).to.equal(2);
    expect(r.stdout + r.stderr).to.not.include(PASSWORD);
  });

  it('a password file with loose permissions or holding only a newline: exit 2, password not printed', async () => {
    const loose = join(dir, 'loose.pw');
    writeFileSync(loose, `${PASSWORD}\n`);
    chmodSync(loose, 0o644);
    const args = (file: string) => [
      'power',
      'status',
      '--driver',
      'redfish',
      '--host',
      `127.0.0.1:${sim.port}`,
      '--username',
      'admin',
      '--password-file',
      file,
      '--ca-file',
      ca,
    ];
    const r = await hafence(args(loose));
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stdout + r.stderr).to.not.include(PASSWORD);
  });

  it('validate --probe: a Redfish port given as a URL or out of range is a configuration error (exit 2)', async () => {
    writeFileSync(join(dir, 'agent.token'), 'a'.repeat(40));
    chmodSync(join(dir, 'agent.token'), 0o600);
    for (const port of ['99999', '"https://evil.example/"', '-3', '1.5']) {
      const file = join(dir, `c-${port.length}.yaml`);
      writeFileSync(
        file,
        `agentTokenFile: ${join(dir, 'agent.token')}\nzones: { z1: {} }\npods: { p1: { zone: z1 } }\n` +
          `clusters: { c1: { pod: p1 } }\nhosts:\n  h1:\n    cluster: c1\n    agent: { url: "http://127.0.0.1:1" }\n` +
          `    bmc: { address: 127.0.0.1, username: admin, passwordEnv: BMC_PW, drivers: [redfish], ` +
          `redfish: { port: ${port}, caFile: ${ca} } }\n`,
      );
      const r = await hafence(['validate', '--config', file, '--probe'], env);
      expect(r.code, `port ${port}: ${r.stdout}${r.stderr}`).to.equal(2);
      expect(r.stdout + r.stderr).to.not.include(PASSWORD);
    }
  });

  // A FIFO (or /dev/zero, /dev/urandom: same hang, plus unbounded memory; not run here, the
  // machine is shared) given where a file is expected: a synchronous read blocks forever.
  const fifo = () => {
    const path = join(dir, `fifo-${Math.random().toString(36).slice(2)}`);
    execFileSync('mkfifo', [path]);
    return path;
  };

  it('--ca-file naming a FIFO: exit 2 naming it at once, not a hang (found from outside)', async () => {
    const r = await within(
      8000,
      [...base('status', `127.0.0.1:${sim.port}`, '--timeout-ms', '1000'), '--ca-file', fifo()],
      env,
    );
    expect(r.code, `${r.ms} ms: ${r.stderr}`).to.equal(2);
    expect(r.stderr).to.include('caFile');
  });

  it('--targets naming a FIFO: exit 2 naming it at once, not a hang (found from outside)', async () => {
    const args = base('status', 'x').filter((a, i, all) => a !== '--host' && all[i - 1] !== '--host');
    const r = await within(8000, [...args, '--targets', fifo(), '--timeout-ms', '1000'], env);
    expect(r.code, `${r.ms} ms: ${r.stderr}`).to.equal(2);
  });

  it('validate (no --probe) with bmc.redfish.caFile naming a FIFO: exit 2 naming the field, not a hang (found from outside)', async () => {
    writeFileSync(join(dir, 'agent.token'), 'a'.repeat(40));
    chmodSync(join(dir, 'agent.token'), 0o600);
    const file = join(dir, 'fifo-ca.yaml');
    writeFileSync(
      file,
      `agentTokenFile: ${join(dir, 'agent.token')}\nzones: { z1: {} }\npods: { p1: { zone: z1 } }\n` +
        `clusters: { c1: { pod: p1 } }\nhosts:\n  h1:\n    cluster: c1\n    agent: { url: "http://127.0.0.1:1" }\n` +
        `    bmc: { address: 127.0.0.1, username: admin, passwordEnv: BMC_PW, drivers: [redfish], ` +
        `redfish: { port: ${sim.port}, caFile: ${fifo()} } }\n`,
    );
    const r = await within(8000, ['validate', '--config', file], env);
    expect(r.code, `${r.ms} ms: ${r.stdout}${r.stderr}`).to.equal(2);
    expect(r.stdout + r.stderr).to.include('caFile');
  });
});
