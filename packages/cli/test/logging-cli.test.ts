import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestPki, type TestPki } from '@hafence/testkit';
import { HafenceProcess, freePorts, waitFor } from './e2e-kvm-processes.js';
import { HAFENCE_BIN, within } from './power-sim-helper.js';

/** Resolves once something accepts TCP connections on 127.0.0.1:`port` (10 s at most). */
async function listening(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      }).on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const MS_TOKEN = 'Log-Ms-Tok-3b9e1f7a2c5d8e40';
const PEER_TOKEN = 'Log-Peer-Tok-8d2a6c0e4f1b9a73';
const WRONG_TOKEN = 'Log-Wrong-Tok-5e7c9a1b3d2f4e68';

interface LogLine {
  level: string;
  t: string;
  message: string;
  [field: string]: unknown;
}

/** stderr of a `hafence` process as JSON log lines; a line that is not JSON fails the test. */
function logLines(stderr: string): LogLine[] {
  return stderr
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogLine);
}

// Issue 12 item 6: the pino logs of the long-running commands, through real `hafence agent` / `serve` processes.
describe('hafence agent / serve logs (real processes)', function () {
  this.timeout(60_000);
  let pki: TestPki;
  const dir = mkdtempSync(join(tmpdir(), 'hafence-log-cli-'));
  const mount = join(dir, 'mount');
  const procs: HafenceProcess[] = [];
  const file = (name: string, content: string) => {
    const f = join(dir, name);
    writeFileSync(f, content);
    chmodSync(f, 0o600);
    return f;
  };
  const msTokenFile = file('ms.token', `${MS_TOKEN}\n`);
  const peerTokenFile = file('peer.token', `${PEER_TOKEN}\n`);

  before(() => {
    pki = makeTestPki();
    mkdirSync(mount, { recursive: true });
  });
  afterEach(() => {
    for (const p of procs.splice(0)) p.killGroup();
  });
  after(() => {
    pki.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  const agentArgs = (listen: string, extra: string[] = []) => [
    'agent',
    '--host-id',
    'h1',
    '--mount',
    mount,
    '--listen',
    listen,
    '--token-file',
    msTokenFile,
    '--watchdog',
    'none',
    '--stop-vms',
    'none',
    '--vm-inventory',
    'none',
    ...extra,
  ];

  function get(port: number, path: string, token: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path, ca: pki.ca, headers: { authorization: `Bearer ${token}` }, timeout: 5_000 },
        (res) => {
          res.resume().on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end();
    });
  }

  it('at debug, the settings line carries the tokens and the TLS key redacted; no secret reaches stderr', async () => {
    const [port] = await freePorts(1);
    const agent = new HafenceProcess(
      'agent',
      agentArgs(`127.0.0.1:${port}`, [
        '--peer-token-file',
        peerTokenFile,
        '--tls-cert',
        pki.files.serverCert,
        '--tls-key',
        pki.files.serverKey,
        '--log-level',
        'debug',
      ]),
    );
    procs.push(agent);
    await waitFor('agent started', 10_000, () => agent.stderr.includes('agent started') || !agent.alive);
    expect(agent.alive, agent.stderr).to.equal(true);
    expect(await get(port!, '/health', MS_TOKEN)).to.equal(200);
    expect(await get(port!, '/health', WRONG_TOKEN)).to.equal(401);
    await waitFor('the 401 logged', 5_000, () => agent.stderr.includes('authentication failed'));
    agent.kill('SIGTERM');
    await agent.waitExit(10_000);

    const lines = logLines(agent.stderr);
    const settings = lines.find((l) => l.message === 'agent settings');
    expect(settings, agent.stderr).to.not.equal(undefined);
    expect(settings).to.include({ level: 'debug', token: '[redacted]', peerToken: '[redacted]', host: 'h1' });
    expect(settings!.tls).to.deep.equal({ key: '[redacted]', clientCerts: false });
    expect(lines.find((l) => l.message === 'agent: authentication failed')).to.include({
      level: 'warn',
      reason: 'wrong token',
    });
    const keyBody = readFileSync(pki.files.serverKey, 'utf8').split('\n')[1]!;
    for (const secret of [MS_TOKEN, PEER_TOKEN, WRONG_TOKEN, keyBody]) expect(agent.stderr).to.not.include(secret);
  });

  it('HAFENCE_LOG_LEVEL=warn drops the info lines and keeps the warnings', async () => {
    const [port] = await freePorts(1);
    const agent = new HafenceProcess('agent', agentArgs(String(port)), { HAFENCE_LOG_LEVEL: 'warn' });
    procs.push(agent);
    await waitFor('the warning', 10_000, () => agent.stderr.includes('127.0.0.1 only') || !agent.alive);
    await listening(port!);
    agent.kill('SIGTERM');
    await agent.waitExit(10_000);
    const lines = logLines(agent.stderr);
    expect(lines.filter((l) => l.level !== 'warn').map((l) => l.message)).to.deep.equal([]);
    expect(lines.some((l) => l.message.includes('127.0.0.1 only'))).to.equal(true);
  });

  it('a bad --log-level or HAFENCE_LOG_LEVEL exits 2 naming it, before anything starts', async () => {
    const [port] = await freePorts(1);
    const flag = await within(10_000, [...agentArgs(`127.0.0.1:${port}`), '--log-level', 'verbose']);
    expect(flag.code, flag.stderr).to.equal(2);
    expect(flag.stderr).to.include('--log-level').and.not.include('agent started');
    const env = await within(10_000, agentArgs(`127.0.0.1:${port}`), { HAFENCE_LOG_LEVEL: 'loud' });
    expect(env.code, env.stderr).to.equal(2);
    expect(env.stderr).to.include('HAFENCE_LOG_LEVEL');
    const serve = await within(10_000, ['serve', '--config', join(dir, 'none.yaml'), '--log-level', 'trace']);
    expect(serve.code, serve.stderr).to.equal(2);
    expect(serve.stderr).to.include('--log-level');
  });

  it('on a TTY (script(1) gives it a pty) stderr has readable lines, not JSON', async () => {
    const [port] = await freePorts(1);
    const command = [process.execPath, HAFENCE_BIN, ...agentArgs(`127.0.0.1:${port}`)].join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await waitFor('agent started', 10_000, () => out.includes('agent started'));
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    }
    const line = out.split(/\r?\n/).find((l) => l.includes('agent started'))!;
    expect(line).to.match(/^\d\d:\d\d:\d\d\.\d{3}Z INFO {2}agent started host=h1 listen=127\.0\.0\.1:\d+ tls=false/);
    expect(out).to.not.match(/^\{/m);
  });
});
