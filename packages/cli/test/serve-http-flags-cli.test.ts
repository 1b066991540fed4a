import { expect } from 'chai';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestPki, type TestPki } from '@hafence/testkit';
import { within, type CliRun } from './power-sim-helper.js';

const API_TOKEN = 'api-token-for-the-flags-test-0123456789';

/**
 * `hafence serve --http…` flags through the real binary: each bad combination or file
 * exits 2 naming the flag, prints nothing on stdout, starts nothing (no state file) and
 * never prints a token.
 */
describe('hafence serve --http flags (real processes)', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'hafence-serve-http-'));
  let pki: TestPki;
  before(() => {
    pki = makeTestPki();
  });
  after(() => {
    pki.remove();
    rmSync(dir, { recursive: true, force: true });
  });
  const agentToken = join(dir, 'agent.token');
  writeFileSync(agentToken, 'Tok-Http-Flags-5e1c9a7b3d2f\n', { mode: 0o600 });
  const cluster = join(dir, 'cluster.yaml');
  writeFileSync(
    cluster,
    `agentTokenFile: ${agentToken}
zones: { z1: {} }
pods: { p1: { zone: z1 } }
clusters: { c1: { pod: p1 } }
hosts:
  h1: { cluster: c1, agent: { url: "http://127.0.0.1:9" }, bmc: { address: 10.0.0.1, username: admin, passwordEnv: HTTP_BMC_PW } }
`,
  );
  const file = (name: string, text: string, mode = 0o600) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    chmodSync(f, mode);
    return f;
  };
  const good = file('api.tokens', `# operators\nalice ${API_TOKEN}\n`);

  const serve = (args: readonly string[]) =>
    within(15_000, ['serve', '--config', cluster, ...args], { HTTP_BMC_PW: 'Bmc-Pw-1' });

  function refused(r: CliRun, flag: string): void {
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.include(flag);
    expect(r.stdout).to.equal('');
    expect(r.stderr).not.to.include(API_TOKEN);
    expect(readdirSync(dir).filter((f) => f.endsWith('.sqlite'))).to.deep.equal([]);
  }

  it('--http without any authentication', async () =>
    refused(await serve(['--http', '127.0.0.1:9440']), '--http-token-file'));

  it('--http with a bad address or port', async () => {
    for (const bad of ['127.0.0.1', '127.0.0.1:70000', '::1:9440'])
      refused(await serve(['--http', bad, '--http-token-file', good]), '--http');
  });

  it('a non-loopback address without TLS', async () =>
    refused(await serve(['--http', '0.0.0.0:9440', '--http-token-file', good]), '--http'));

  it('a token file readable by others', async () => {
    const open = file('open.tokens', `alice ${API_TOKEN}\n`, 0o644);
    refused(await serve(['--http', '127.0.0.1:9440', '--http-token-file', open]), '--http-token-file');
  });

  it('a token file that does not exist', async () =>
    refused(await serve(['--http', '127.0.0.1:9440', '--http-token-file', join(dir, 'none')]), '--http-token-file'));

  it('a token file with a short token, a bad name or a name twice, naming the line', async () => {
    const cases: Array<[string, string]> = [
      [`alice short-token\n`, '--http-token-file:1'],
      [`# c\nal!ce ${API_TOKEN}\n`, '--http-token-file:2'],
      [`alice ${API_TOKEN}\nalice ${API_TOKEN}x\n`, '--http-token-file:2'],
      [`\n`, '--http-token-file'],
    ];
    for (const [i, [text, flag]] of cases.entries()) {
      const f = file(`bad${i}.tokens`, text);
      refused(await serve(['--http', '127.0.0.1:9440', '--http-token-file', f]), flag);
    }
  });

  it('--http-tls-cert without --http-tls-key, and --http-tls-ca without TLS', async () => {
    refused(
      await serve(['--http', '127.0.0.1:9440', '--http-token-file', good, '--http-tls-cert', pki.files.serverCert]),
      '--http-tls-key',
    );
    refused(await serve(['--http', '127.0.0.1:9440', '--http-tls-ca', pki.files.ca]), '--http-tls-ca');
  });

  it('an --http-… flag without --http', async () => refused(await serve(['--http-token-file', good]), '--http'));
});
