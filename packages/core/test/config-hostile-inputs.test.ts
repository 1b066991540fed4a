import { expect } from 'chai';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile, parseConfig, resolveCredential } from '@hafence/core';
import { configError } from './config-helpers.js';

// Hafence issue 9: configuration errors get printed, so they must not carry secrets or
// megabytes; ids that name prototype slots must not silently drop an entry; files that
// hold secrets are refused when others may read them (as ssh refuses a private key).
describe('configuration: hostile inputs (SPEC §9)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hafence-hostile-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string | Buffer, mode = 0o600) => {
    const f = join(dir, name);
    writeFileSync(f, content, { mode });
    return f;
  };

  it('a token file given as the configuration: the error never shows its content', () => {
    const err = configError(() => loadConfigFile(file('agent.token', 'Tok-3f9a1c5e7b2d4f60a8c1\n')));
    expect(err.message).to.not.include('Tok-3f9a1c5e7b2d4f60a8c1');
    expect(err.issues.map((i) => JSON.stringify(i.value)).join()).to.not.include('Tok-3f9a');
  });

  it("a YAML syntax error names the file and the line, never the line's text", () => {
    const f = file('broken.yaml', 'defaults:\n  healthCheckInterval: 10s\nbmc: { password: Inline-Pw-4242, port: [\n');
    const err = configError(() => loadConfigFile(f));
    expect(err.message)
      .to.include(f)
      .and.match(/line \d+/);
    expect(err.message).to.not.include('Inline-Pw-4242');
  });

  it('a huge value is shown cut to 80 characters', () => {
    const big = 'x'.repeat(5_000_000);
    const err = configError(() => loadConfigFile(file('big.yaml', `defaults:\n  healthCheckInterval: "${big}"\n`)));
    expect(err.message).to.include('defaults.healthCheckInterval');
    expect(err.message.length).to.be.lessThan(600);
    const inline = configError(() => parseConfig({ defaults: { quietPeriod: 'y'.repeat(10_000) } }));
    expect(inline.message.length).to.be.lessThan(600);
  });

  it('a host, cluster, pod or zone id __proto__ or constructor is refused, not silently dropped', () => {
    const f = file(
      'proto.yaml',
      'hosts:\n  __proto__: { quietPeriod: 1s }\nclusters:\n  constructor: { quietPeriod: 1s }\n',
    );
    const err = configError(() => loadConfigFile(f));
    expect(err.issues.map((i) => i.path)).to.include.members(['hosts.__proto__', 'clusters.constructor']);
    const json = configError(() => parseConfig(JSON.parse('{"zones": {"__proto__": {"fenceTimeout": "0s"}}}')));
    expect(json.issues.map((i) => i.path)).to.include('zones.__proto__');
  });

  it('a configuration file that is not UTF-8 is refused, naming the file', () => {
    const f = file(
      'latin1.yaml',
      Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9]), Buffer.from('\ndefaults: {}\n')]),
    );
    const err = configError(() => loadConfigFile(f));
    expect(err.message).to.include(f).and.include('UTF-8');
  });

  describe('secret files', () => {
    it('a password or key file readable by group or others is refused, naming the file', () => {
      for (const mode of [0o644, 0o640, 0o604, 0o660]) {
        const f = file(`pw-${mode.toString(8)}`, 'Loose-Pw-1\n');
        chmodSync(f, mode); // chmod, unlike writeFileSync's mode, is not filtered by the umask
        const err = configError(() => resolveCredential({ file: f }));
        expect(err.message, mode.toString(8)).to.include(f).and.include('group or others');
        expect(err.message).to.not.include('Loose-Pw-1');
      }
      expect(resolveCredential({ file: file('pw-600', 'Tight-Pw-1\n') }).reveal()).to.equal('Tight-Pw-1');
      const key = file('key-644', `${'ab'.repeat(32)}\n`);
      chmodSync(key, 0o644);
      expect(
        configError(() => resolveCredential({ encrypted: 'v1:AAAA' }, { env: {}, keyFile: key })).message,
      ).to.include('group or others');
    });

    it('a password file that is not UTF-8 is refused, naming the file', () => {
      const f = file('pw-latin1', Buffer.from([0x70, 0x77, 0xe9, 0x0a]));
      const err = configError(() => resolveCredential({ file: f }));
      expect(err.message).to.include(f).and.include('UTF-8');
    });

    it('a password that was not UTF-8 in the environment (decoded to U+FFFD) is refused', () => {
      const err = configError(() => resolveCredential({ env: 'PW' }, { env: { PW: 'p\uFFFDssword' } }));
      expect(err.message).to.include('env.PW').and.include('UTF-8');
    });

    it('a password with a control character is refused from the environment, without showing it', () => {
      const err = configError(() => resolveCredential({ env: 'PW' }, { env: { PW: 'Pw-1\naction=off' } }));
      expect(err.message).to.include('env.PW').and.not.include('Pw-1');
    });
  });
});
