import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HafenceProcess, freePorts, waitFor } from './e2e-kvm-processes.js';
import { HAFENCE_BIN, type CliRun } from './power-sim-helper.js';
import { makeTestPki, type TestPki } from '@hafence/testkit';

const MS_TOKEN = 'Ms-Tok-5f2a9c1e7b3d4a60';
const PEER_TOKEN = 'Peer-Tok-0c8e2b6a4d1f9e37';

/** Runs `hafence ARGS`, killed after `ms` (a command that should refuse but starts ends with -1). */
function within(ms: number, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [HAFENCE_BIN, ...args],
      { env: { ...process.env, ...env }, timeout: ms, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : -1
          : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

// hafence issue 9 part 2: TLS and the split token, through real `hafence` processes.
describe('hafence agent / serve: TLS and the split token (real processes)', function () {
  this.timeout(60_000);
  let pki: TestPki;
  const dir = mkdtempSync(join(tmpdir(), 'hafence-tls-cli-'));
  const mount = join(dir, 'mount');
  const procs: HafenceProcess[] = [];
  const file = (name: string, content: string, mode = 0o600) => {
    const f = join(dir, name);
    writeFileSync(f, content);
    chmodSync(f, mode);
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

  const agentArgs = (port: number, extra: string[]) => [
    'agent',
    '--host-id',
    'h1',
    '--mount',
    mount,
    '--listen',
    `127.0.0.1:${port}`,
    '--token-file',
    msTokenFile,
    '--watchdog',
    'none',
    '--stop-vms',
    'none',
    ...extra,
  ];

  /** One HTTPS request to the agent, verified with the test CA. */
  function https(
    port: number,
    method: string,
    path: string,
    token: string,
    clientCert: boolean,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          ca: pki.ca,
          ...(clientCert ? { cert: pki.client.cert, key: pki.client.key } : {}),
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          timeout: 5_000,
        },
        (res) => {
          let text = '';
          res
            .setEncoding('utf8')
            .on('data', (c: string) => {
              text += c;
            })
            .on('end', () =>
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }),
            );
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end(method === 'POST' ? '{"armed":false,"armGen":7}' : undefined);
    });
  }

  it('serves HTTPS with a required client certificate; the peer token is refused on /arm (403), the MS token is not', async () => {
    const [port] = await freePorts(1);
    const agent = new HafenceProcess(
      'agent',
      agentArgs(port!, [
        '--peer-token-file',
        peerTokenFile,
        '--tls-cert',
        pki.files.serverCert,
        '--tls-key',
        pki.files.serverKey,
        '--tls-client-ca',
        pki.files.ca,
      ]),
    );
    procs.push(agent);
    await waitFor('agent started', 10_000, () => agent.stderr.includes('agent started') || !agent.alive);
    expect(agent.alive, agent.stderr).to.equal(true);
    expect(agent.stderr).to.not.include('no peer token');

    const health = await https(port!, 'GET', '/health', MS_TOKEN, true);
    expect(health.status).to.equal(200);
    expect(health.body.connected).to.equal(true);
    const peerArm = await https(port!, 'POST', '/arm', PEER_TOKEN, true);
    expect(peerArm.status).to.equal(403);
    expect(peerArm.body.error).to.be.a('string');
    expect((await https(port!, 'GET', '/peer/status', PEER_TOKEN, true)).status).to.equal(200);
    expect((await https(port!, 'POST', '/arm', MS_TOKEN, true)).status).to.equal(200);
    const noCert = await https(port!, 'GET', '/health', MS_TOKEN, false).then(
      () => 'answered',
      (e: NodeJS.ErrnoException) => e.code ?? 'error',
    );
    expect(noCert).to.not.equal('answered');
    await waitFor('the 403 logged', 5_000, () => agent.stderr.includes('peer token on a management-server route'));
    expect(agent.stderr).to.not.include(PEER_TOKEN).and.not.include(MS_TOKEN);
  });

  it('without --peer-token-file it runs with one token and warns once that peers can arm each other', async () => {
    const [port] = await freePorts(1);
    const agent = new HafenceProcess('agent', agentArgs(port!, []));
    procs.push(agent);
    await waitFor('agent started', 10_000, () => agent.stderr.includes('agent started') || !agent.alive);
    expect(agent.stderr.split('no peer token').length - 1).to.equal(1);
  });

  it('a --tls-key readable by group or others: exit 2 naming the flag, nothing started', async () => {
    const loose = file('loose.key', pki.server.key, 0o644);
    const [port] = await freePorts(1);
    const r = await within(10_000, agentArgs(port!, ['--tls-cert', pki.files.serverCert, '--tls-key', loose]));
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('--tls-key').and.include('group or others').and.not.include('PRIVATE KEY');
  });

  it("a key that is not the certificate's, or --tls-cert without --tls-key: exit 2 naming the flag", async () => {
    const [port] = await freePorts(1);
    const wrong = await within(
      10_000,
      agentArgs(port!, ['--tls-cert', pki.files.serverCert, '--tls-key', pki.files.clientKey]),
    );
    expect(wrong.code).to.equal(2);
    expect(wrong.stderr).to.include('--tls-key').and.include('not the private key');
    const half = await within(10_000, agentArgs(port!, ['--tls-cert', pki.files.serverCert]));
    expect(half.code).to.equal(2);
    expect(half.stderr).to.include('--tls-cert');
  });

  it('the same token in --token-file and --peer-token-file: exit 2 naming --peer-token-file', async () => {
    const same = file('same.token', `${MS_TOKEN}\n`);
    const [port] = await freePorts(1);
    const r = await within(10_000, agentArgs(port!, ['--peer-token-file', same]));
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('--peer-token-file').and.include('must differ').and.not.include(MS_TOKEN);
  });

  it('--tls-ca with a plaintext http:// peer: exit 2 (no plaintext fallback)', async () => {
    const [port] = await freePorts(1);
    const r = await within(10_000, agentArgs(port!, ['--tls-ca', pki.files.ca, '--peer', 'h2=http://127.0.0.1:9']));
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('--peer').and.include('https');
  });

  describe('serve', () => {
    const cluster = (url: string, tls: string) => `agentTokenFile: ${msTokenFile}
${tls}zones: { z1: {} }
pods: { p1: { zone: z1 } }
clusters: { c1: { pod: p1 } }
hosts:
  h1: { cluster: c1, agent: { url: "${url}" }, bmc: { address: 10.0.0.1, username: admin, passwordEnv: TLS_BMC_PW } }
`;
    const serve = (name: string, text: string, extra: string[] = []) =>
      within(10_000, ['serve', '--config', file(name, text), ...extra], { TLS_BMC_PW: 'Bmc-Pw-31' });

    it("agentTls with an http:// agent URL, or --tls-ca with one: exit 2 naming the host's url", async () => {
      const r = await serve('plain.yaml', cluster('http://127.0.0.1:9', `agentTls: { caFile: ${pki.files.ca} }\n`));
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include('hosts.h1.agent.url').and.include('https');
      const flag = await serve('plain-flag.yaml', cluster('http://127.0.0.1:9', ''), ['--tls-ca', pki.files.ca]);
      expect(flag.code).to.equal(2);
      expect(flag.stderr).to.include('hosts.h1.agent.url');
    });

    it('agentTls.keyFile readable by others: exit 2 naming the field', async () => {
      const loose = file('serve-loose.key', pki.client.key, 0o640);
      const r = await serve(
        'loose.yaml',
        cluster(
          'https://127.0.0.1:9',
          `agentTls: { caFile: ${pki.files.ca}, certFile: ${pki.files.clientCert}, keyFile: ${loose} }\n`,
        ),
      );
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include('agentTls.keyFile').and.include('group or others');
    });

    it('agentTls.certFile without keyFile, or a caFile that is no certificate: exit 2 naming the field', async () => {
      const half = await serve(
        'half.yaml',
        cluster('https://127.0.0.1:9', `agentTls: { caFile: ${pki.files.ca}, certFile: ${pki.files.clientCert} }\n`),
      );
      expect(half.code).to.equal(2);
      expect(half.stderr).to.include('agentTls.certFile');
      const notCa = await serve(
        'not-ca.yaml',
        cluster('https://127.0.0.1:9', `agentTls: { caFile: ${msTokenFile} }\n`),
      );
      expect(notCa.code).to.equal(2);
      expect(notCa.stderr).to.include('agentTls.caFile').and.not.include(MS_TOKEN);
    });
  });
});
