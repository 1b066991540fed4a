import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliSims, hafence } from './power-sim-helper.js';

const FIRST = 9120;
const DEAD = 9139;

describe('hafence power (real ipmitool / fence_ipmilan against ipmi_sim)', function () {
  this.timeout(30_000);
  let sims: CliSims;
  const dir = mkdtempSync(join(tmpdir(), 'hafence-cli-'));
  const env = () => ({ BMC_PW: sims.password });
  const ipmitool = (action: string, port: number, ...extra: string[]) =>
    hafence(
      [
        'power',
        action,
        '--driver',
        'script',
        '--preset',
        'ipmitool',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--username',
        sims.user,
        '--password-env',
        'BMC_PW',
        '--cipher',
        '3',
        ...extra,
      ],
      env(),
    );
  const fence = (action: string, port: number, ...extra: string[]) =>
    hafence(
      [
        'power',
        action,
        '--driver',
        'script',
        '--preset',
        'fence-agent',
        '--agent',
        'fence_ipmilan',
        '--host',
        `127.0.0.1:${port}`,
        '--username',
        sims.user,
        '--password-env',
        'BMC_PW',
        '--cipher',
        '3',
        ...extra,
      ],
      env(),
    );

  before(async () => {
    sims = await CliSims.start(4, FIRST);
  });
  after(async () => {
    await sims?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('status prints on/off, and --json {"state":…}', async () => {
    sims.setPower(FIRST, 'OFF');
    const r = await ipmitool('status', FIRST);
    expect(r).to.deep.include({ code: 0, stdout: 'off\n' });
    sims.setPower(FIRST, 'ON');
    const j = await ipmitool('status', FIRST, '--json');
    expect(j.code).to.equal(0);
    expect(JSON.parse(j.stdout)).to.deep.equal({ state: 'on' });
  });

  it('every action through ipmitool, and the simulator reports the state after it', async () => {
    const p = FIRST + 1;
    for (const [action, want] of [
      ['on', 'ON'],
      ['soft', 'OFF'],
      ['on', 'ON'],
      ['reset', 'ON'],
      ['off', 'OFF'],
      ['identify', 'OFF'],
      ['validate', 'OFF'],
    ] as const) {
      const r = await ipmitool(action, p);
      expect(r.code, `${action}: ${r.stderr}`).to.equal(0);
      expect(r.stdout).to.equal('ok\n');
      expect(sims.power(p), action).to.equal(want);
    }
    expect((await ipmitool('cycle', p)).code).to.equal(0);
    expect((await ipmitool('status', p)).stdout).to.match(/^(on|off)\n$/);
  });

  it('status, on, off and validate through fence_ipmilan', async () => {
    const p = FIRST + 2;
    sims.setPower(p, 'OFF');
    expect((await fence('status', p)).stdout).to.equal('off\n');
    expect((await fence('on', p)).code).to.equal(0);
    expect(sims.power(p)).to.equal('ON');
    expect((await fence('off', p, '--json')).stdout).to.equal('{"action":"off","ok":true}\n');
    expect(sims.power(p)).to.equal('OFF');
    expect((await fence('validate', p)).code).to.equal(0);
    const soft = await fence('soft', p);
    expect(soft.code).to.equal(1);
    expect(soft.stderr).to.include('does not support soft');
  });

  it('takes an AES-256-GCM encrypted password with the key from HAFENCE_SECRET_KEY', async () => {
    const { encryptSecret } = await import('@hafence/core');
    const key = randomBytes(32).toString('hex');
    const r = await hafence(
      [
        'power',
        'status',
        '--host',
        '127.0.0.1',
        '--port',
        String(FIRST),
        '--username',
        sims.user,
        '--password-encrypted',
        encryptSecret(sims.password, key),
        '--cipher',
        '3',
      ],
      { HAFENCE_SECRET_KEY: key },
    );
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^(on|off)\n$/);
    const wrongKey = await hafence(
      [
        'power',
        'status',
        '--host',
        '127.0.0.1',
        '--port',
        String(FIRST),
        '--password-encrypted',
        encryptSecret(sims.password, key),
      ],
      { HAFENCE_SECRET_KEY: randomBytes(32).toString('hex') },
    );
    expect(wrongKey.code).to.equal(2);
  });

  it('a wrong password exits 3 and never prints the password', async () => {
    const r = await hafence(
      [
        'power',
        'status',
        '--host',
        '127.0.0.1',
        '--port',
        String(FIRST),
        '--username',
        sims.user,
        '--password-env',
        'BMC_PW',
        '--cipher',
        '3',
      ],
      { BMC_PW: 'Wrong-Cli-Pw-42' },
    );
    expect(r.code).to.equal(3);
    expect(r.stderr).to.include('HAF1001');
    expect(r.stdout + r.stderr).to.not.include('Wrong-Cli-Pw-42');
    const f = await fence('status', FIRST, '--json');
    expect(f.stdout + f.stderr).to.not.include(sims.password);
  });

  it('a port where nothing listens exits 4 within the timeout', async () => {
    const r = await ipmitool('status', DEAD, '--timeout-ms', '1000');
    expect(r.code).to.equal(4);
    expect(r.stderr).to.match(/HAF100[23]/);
    expect(r.ms).to.be.lessThan(5000);
  });

  it('garbage from a custom script exits 5', async () => {
    const s = join(dir, 'garbage.sh');
    writeFileSync(s, '#!/bin/sh\necho "~~ no idea ~~"\n');
    chmodSync(s, 0o755);
    const r = await hafence(
      [
        'power',
        'status',
        '--preset',
        'custom',
        '--command',
        s,
        '--arg',
        '{action}',
        '--arg',
        '{address}',
        '--host',
        'h1',
      ],
      {},
    );
    expect(r.code).to.equal(5);
    expect(r.stderr).to.include('HAF1004');
  });

  it('usage and configuration errors exit 2', async () => {
    expect((await hafence(['power', 'status', '--password-env', 'BMC_PW'], env())).code).to.equal(2); // no --host
    expect((await hafence(['power', 'explode', '--host', 'x'])).code).to.equal(2);
    expect((await hafence(['power', 'status', '--host', 'x', '--port', '70000'])).code).to.equal(2);
    expect((await hafence(['power', 'status', '--host', 'x', '--password-env', 'UNSET_VAR_XYZ'])).stderr).to.include(
      'UNSET_VAR_XYZ',
    );
    expect((await hafence(['power', 'status', '--host', 'x', '--password-env', 'UNSET_VAR_XYZ'])).code).to.equal(2);
    const zero = await ipmitool('status', FIRST, '--cipher', '0');
    expect(zero.code).to.equal(2);
    expect(zero.stderr).to.include('cipher suite 0');
    expect((await hafence(['power', 'status', '--host', 'x', '--driver', 'nope'])).code).to.equal(2);
  });

  it('--targets runs every BMC with a concurrency limit, one line each, and exits with the worst code', async () => {
    const file = join(dir, 'targets');
    sims.setPower(FIRST, 'ON');
    sims.setPower(FIRST + 3, 'OFF');
    writeFileSync(file, `# rack 1\n127.0.0.1:${FIRST}\n127.0.0.1:${FIRST + 3}\n\n127.0.0.1:${DEAD}\n`);
    const r = await hafence(
      [
        'power',
        'status',
        '--targets',
        file,
        '--concurrency',
        '2',
        '--username',
        sims.user,
        '--password-env',
        'BMC_PW',
        '--cipher',
        '3',
        '--timeout-ms',
        '1000',
      ],
      env(),
    );
    const lines = r.stdout.trim().split('\n').sort();
    expect(lines).to.have.length(3);
    expect(lines[0]).to.equal(`127.0.0.1:${FIRST} on`);
    expect(lines[1]).to.equal(`127.0.0.1:${FIRST + 3} off`);
    expect(lines[2]).to.match(new RegExp(`^127.0.0.1:${DEAD} error \\[HAF100[23]\\]`));
    expect(r.code).to.equal(4);
    writeFileSync(file, `127.0.0.1:${FIRST}\n127.0.0.1:${FIRST + 3}\n`);
    const ok = await hafence(
      [
        'power',
        'status',
        '--targets',
        file,
        '--username',
        sims.user,
        '--password-env',
        'BMC_PW',
        '--cipher',
        '3',
        '--json',
      ],
      env(),
    );
    expect(ok.code).to.equal(0);
    expect(
      ok.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .sort((a, b) => a.target.localeCompare(b.target)),
    ).to.deep.equal([
      { target: `127.0.0.1:${FIRST}`, state: 'on' },
      { target: `127.0.0.1:${FIRST + 3}`, state: 'off' },
    ]);
  });
});
