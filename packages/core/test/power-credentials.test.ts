import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, decryptSecret, encryptSecret, resolveCredential, Secret } from '@hafence/core';

const catchErr = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
};

describe('power credentials', () => {
  const key = randomBytes(32);
  const hexKey = key.toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'hafence-cred-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('resolves an environment variable into a Secret that prints redacted', () => {
    const s = resolveCredential({ env: 'BMC_PW' }, { env: { BMC_PW: 'pw-env-1' } });
    expect(s).to.be.instanceOf(Secret);
    expect(s.reveal()).to.equal('pw-env-1');
    expect(String(s)).to.equal('[redacted]');
    expect(JSON.stringify({ s })).to.not.include('pw-env-1');
  });

  it('a missing variable is a ConfigError naming the variable', () => {
    const err = catchErr(() => resolveCredential({ env: 'NOPE_PW' }, { env: {} }));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.include('NOPE_PW').and.include('HAF2001');
  });

  it('reads the first line of a file; a missing file names the file, never a value', () => {
    const f = join(dir, 'pw');
    writeFileSync(f, 'file-pw-7\nignored\n', { mode: 0o600 });
    expect(resolveCredential({ file: f }).reveal()).to.equal('file-pw-7');
    const err = catchErr(() => resolveCredential({ file: join(dir, 'missing') }));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.include(join(dir, 'missing')).and.include('ENOENT');
  });

  it('round-trips AES-256-GCM values with the key from the environment (hex or base64)', () => {
    const stored = encryptSecret('enc-pw-42', hexKey);
    expect(stored).to.match(/^v1:[A-Za-z0-9+/=]+$/);
    expect(stored).to.not.include('enc-pw-42');
    expect(resolveCredential({ encrypted: stored }, { env: { HAFENCE_SECRET_KEY: hexKey } }).reveal()).to.equal(
      'enc-pw-42',
    );
    expect(
      resolveCredential({ encrypted: stored }, { env: { HAFENCE_SECRET_KEY: key.toString('base64') } }).reveal(),
    ).to.equal('enc-pw-42');
    expect(encryptSecret('enc-pw-42', key)).to.not.equal(stored); // fresh IV every time
  });

  it('takes the key from a key file when the variable is unset', () => {
    const kf = join(dir, 'key');
    writeFileSync(kf, `${hexKey}\n`, { mode: 0o600 });
    const stored = encryptSecret('kf-pw', key);
    expect(resolveCredential({ encrypted: stored }, { env: {}, keyFile: kf }).reveal()).to.equal('kf-pw');
  });

  it('a wrong key, a tampered value or a bad key is a ConfigError without the key or value', () => {
    const stored = encryptSecret('tamper-pw', key);
    const other = randomBytes(32).toString('hex');
    const wrong = catchErr(() => decryptSecret(stored, other));
    expect(wrong).to.be.instanceOf(ConfigError);
    expect(wrong.message).to.not.include(other).and.not.include('tamper-pw');
    const raw = Buffer.from(stored.slice(3), 'base64');
    const last = raw.length - 1;
    raw.writeUInt8(raw.readUInt8(last) ^ 1, last);
    expect(catchErr(() => decryptSecret(`v1:${raw.toString('base64')}`, key))).to.be.instanceOf(ConfigError);
    const bad = catchErr(() =>
      resolveCredential({ encrypted: stored }, { env: { HAFENCE_SECRET_KEY: 'short-key-value' } }),
    );
    expect(bad).to.be.instanceOf(ConfigError);
    expect(bad.message).to.include('HAFENCE_SECRET_KEY').and.not.include('short-key-value');
    const none = catchErr(() => resolveCredential({ encrypted: stored }, { env: {} }));
    expect(none.message).to.include('HAFENCE_SECRET_KEY');
  });
});
