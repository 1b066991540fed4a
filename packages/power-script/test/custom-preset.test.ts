import { assert, expect } from 'chai';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DriverError, ProtocolError, Secret, TimeoutError, type PowerTarget } from '@hafence/core';
import { describePowerDriverConformance } from '@hafence/testkit/mocha';
import { ScriptPowerDriver, type CustomPresetOptions } from '@hafence/power-script';
import { BmcSims } from './helpers/bmc-sim.js';

const PORT = 9110;
const dir = mkdtempSync(join(tmpdir(), 'hafence-custom-'));
const script = (name: string, body: string): string => {
  const f = join(dir, name);
  writeFileSync(f, `#!/bin/sh\n${body}\n`);
  chmodSync(f, 0o755);
  return f;
};
const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
const target = (password = 'Custom-Pw-555'): PowerTarget => ({
  host: 'h1',
  address: '127.0.0.1',
  port: PORT,
  username: 'admin',
  password: new Secret(password),
});
const call = (ms = 5000) => ({ signal: AbortSignal.timeout(ms), timeoutMs: ms });
const custom = (options: CustomPresetOptions) => new ScriptPowerDriver({ preset: 'custom', custom: options });

describe('ScriptPowerDriver custom preset', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('wrapping real ipmitool against ipmi_sim', () => {
    let sims: BmcSims;
    before(async function () {
      this.timeout(30_000);
      sims = await BmcSims.start(1, PORT);
    });
    after(async function () {
      this.timeout(30_000);
      await sims?.stop();
    });
    // the password arrives in $BMC_PASSWORD; argv only carries the templated fields
    const wrapper = () =>
      script(
        'power.sh',
        'IPMI_PASSWORD=$BMC_PASSWORD exec ipmitool -I lanplus -H "$1" -p "$2" -U "$3" -E -C 3 -N 1 -R 1 -v chassis power "$4"',
      );
    describePowerDriverConformance('ScriptPowerDriver custom (shell → ipmitool → ipmi_sim)', async () => {
      const driver = custom({
        command: wrapper(),
        args: ['{address}', '{port}', '{username}', '{action}'],
        password: { env: 'BMC_PASSWORD' },
        actions: {
          status: 'status',
          validate: 'status',
          on: 'on',
          off: 'off',
          soft: 'soft',
          cycle: 'cycle',
          reset: 'reset',
        },
        status: { on: 'Chassis Power is on', off: 'Chassis Power is off' },
      });
      return {
        driver,
        target: target(sims.password),
        readPower: async () => sims.readPower(PORT),
        setPower: async (s) => sims.setPower(PORT, s),
        wrongPasswordTarget: target('Wrong-Custom-1'),
        unsupported: ['identify'],
        close: async () => {},
      };
    });
  });

  it('a hung script is killed at the timeout together with its children', async () => {
    const pids = join(dir, 'pids');
    const hung = custom({ command: script('hang.sh', `sleep 300 & echo $$ $! > ${pids}; wait`), args: [] });
    const started = Date.now();
    const err = await hung.status(target(), call(600)).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(TimeoutError);
    expect(Date.now() - started).to.be.lessThan(2000);
    const [shell, child] = readFileSync(pids, 'utf8').trim().split(' ').map(Number);
    assert.isDefined(shell, 'the script wrote its pid');
    assert.isDefined(child, "the script wrote its child's pid");
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(shell), 'script').to.equal(false);
    expect(alive(child), 'its child').to.equal(false);
  });

  it('garbage output is a ProtocolError, a non-zero exit a DriverError, a missing binary a DriverError', async () => {
    const garbage = custom({ command: script('garbage.sh', 'echo "%%$#@ lorem"'), args: ['{action}'] });
    expect(await garbage.status(target(), call()).catch((e: unknown) => e)).to.be.instanceOf(ProtocolError);
    const failing = custom({ command: script('fail.sh', 'echo "controller busy" >&2; exit 7'), args: ['{action}'] });
    const err = await failing.control(target(), 'off', call()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DriverError);
    expect((err as Error).message)
      .to.include('exit 7')
      .and.include('controller busy');
    const missing = custom({ command: join(dir, 'nope.sh'), args: [] });
    expect(String(await missing.status(target(), call()).catch((e: unknown) => e))).to.match(
      /HAF1006.*executable not found/,
    );
  });

  it('uses exit codes for status when told, and cross-checks the text', async () => {
    const byCode = (code: number, text: string) =>
      custom({
        command: script(`code${code}.sh`, `echo "${text}"; exit ${code}`),
        args: [],
        status: { exitCodes: { on: [0], off: [2] } },
      });
    expect(await byCode(0, 'running').status(target(), call())).to.equal('ON');
    expect(await byCode(2, 'stopped').status(target(), call())).to.equal('OFF');
    expect(
      await byCode(2, 'power is on')
        .status(target(), call())
        .catch((e: unknown) => e),
    ).to.be.instanceOf(ProtocolError);
  });

  it('the child gets a minimal environment and the password only where configured', async () => {
    process.env.HAFENCE_TEST_LEAK = 'parent-only';
    const out = join(dir, 'env');
    const envDump = custom({
      command: script('env.sh', `env > ${out}; read pw; echo "$pw" >> ${out}; echo on`),
      args: [],
      password: { stdin: true },
    });
    expect(await envDump.status(target(), call())).to.equal('ON');
    const dump = readFileSync(out, 'utf8');
    expect(dump).to.not.include('HAFENCE_TEST_LEAK').and.not.include('HOME=');
    expect(dump)
      .to.match(/^PATH=/m)
      .and.include('Custom-Pw-555');
    delete process.env.HAFENCE_TEST_LEAK;
  });

  it('caps stdout and stderr', async () => {
    const noisy = new ScriptPowerDriver({
      preset: 'custom',
      maxOutputBytes: 1024,
      custom: { command: script('noisy.sh', 'head -c 5000000 /dev/zero | tr "\\0" x; echo; echo off'), args: [] },
    });
    // "off" was beyond the cap
    expect(await noisy.status(target(), call()).catch((e: unknown) => e)).to.be.instanceOf(ProtocolError);
  });

  it('refuses {password} in templates and any argv that would carry the password', async () => {
    expect(() => custom({ command: '/bin/true', args: ['--pw', '{password}'] })).to.throw(ConfigError, /password/);
    expect(() => custom({ command: '/bin/true', args: ['{nope}'] })).to.throw(ConfigError, /unknown placeholder/);
    const sneaky = custom({ command: '/bin/echo', args: ['{username}'] });
    const err = await sneaky.status({ ...target('admin'), username: 'admin' }, call()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message)
      .to.include('command line')
      .and.not.include('admin');
  });
});
