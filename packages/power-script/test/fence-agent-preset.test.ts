import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { AuthError, ConfigError, TimeoutError, UnsupportedOperationError, type PowerTarget } from '@hafence/core';
import { describePowerDriverConformance } from '@hafence/testkit/mocha';
import { FenceAgentPreset, ScriptPowerDriver, parseFenceMetadata } from '@hafence/power-script';
import { BmcSims, requireTools, watchProcessGroup } from './helpers/bmc-sim.js';

const FIRST_PORT = 9105;
const DEAD_PORT = 9198;

describe('ScriptPowerDriver fence-agent (real fence_ipmilan → ipmi_sim)', () => {
  let sims: BmcSims;
  let watched: ReturnType<typeof watchProcessGroup> | undefined;
  let armed = false;
  const driver = new ScriptPowerDriver({
    preset: 'fence-agent',
    fenceAgent: { agent: 'fence_ipmilan' },
    onSpawn: (pid) => {
      if (armed) watched = watchProcessGroup(pid);
      armed = false;
    },
  });
  const targetOf = (port: number, password?: string): PowerTarget => sims.target(port, password);
  const call = (ms = 10_000) => ({ signal: AbortSignal.timeout(ms), timeoutMs: ms });

  before(async function () {
    this.timeout(30_000);
    requireTools('fence_ipmilan');
    sims = await BmcSims.start(2, FIRST_PORT);
  });
  after(async function () {
    this.timeout(30_000);
    await sims?.stop();
  });

  describePowerDriverConformance(
    'ScriptPowerDriver fence-agent fence_ipmilan',
    async () => ({
      driver,
      target: targetOf(FIRST_PORT),
      readPower: async () => sims.readPower(FIRST_PORT),
      setPower: async (s) => sims.setPower(FIRST_PORT, s),
      wrongPasswordTarget: targetOf(FIRST_PORT, 'Wrong-Fence-Pw-9'),
      unreachableTarget: targetOf(DEAD_PORT),
      unsupported: ['soft', 'reset', 'identify'],
      close: async () => {},
    }),
    { timeoutMs: 10_000, settleMs: 3000 },
  );

  it('on / off / reboot / status / monitor, and the simulator agrees', async function () {
    this.timeout(30_000);
    const port = FIRST_PORT + 1;
    const t = targetOf(port);
    sims.setPower(port, 'OFF');
    expect(await driver.status(t, call())).to.equal('OFF');
    await driver.control(t, 'on', call());
    expect(sims.readPower(port)).to.equal('ON');
    expect(await driver.status(t, call())).to.equal('ON');
    await driver.control(t, 'cycle', call()); // reboot: off, then on
    expect(sims.readPower(port)).to.equal('ON');
    expect(sims.chassisLog(port)).to.match(/power 0[\s\S]*power 1\s*$/);
    await driver.control(t, 'off', call());
    expect(sims.readPower(port)).to.equal('OFF');
    await driver.validate(t, call());
    expect(sims.readPower(port)).to.equal('OFF');
  });

  it('no process of the run (the agent, the shim, ipmitool) ever has the password on its argv', async function () {
    this.timeout(20_000);
    const port = FIRST_PORT + 1;
    sims.setPower(port, 'OFF');
    armed = true;
    try {
      await driver.control(targetOf(port), 'on', call()); // ~2 s of polling: several ipmitool runs
    } finally {
      armed = false;
    }
    const argvs = watched!.stop();
    expect(argvs.some((a) => a.includes('fence_ipmilan'))).to.equal(true);
    expect(
      argvs.some((a) => /ipmitool .*-E/.test(a)),
      argvs.join('\n'),
    ).to.equal(true);
    for (const a of argvs) expect(a).to.not.include(sims.password);
  });

  it('a wrong password is an AuthError (the shim makes ipmitool say RAKP 2 HMAC is invalid)', async () => {
    const err = await driver.status(targetOf(FIRST_PORT + 1, 'Bad-Pw-333'), call()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AuthError);
    expect((err as Error).message).to.not.include('Bad-Pw-333');
  });

  it('a dead port is a TimeoutError at the deadline, the agent killed', async () => {
    const started = Date.now();
    const err = await driver.status(targetOf(DEAD_PORT), call(1200)).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(TimeoutError);
    expect(Date.now() - started).to.be.lessThan(2700);
  });

  it('soft, reset and identify are unsupported by the fence-agent API', async () => {
    for (const p of [
      driver.control(targetOf(FIRST_PORT), 'soft', call()),
      driver.identify(targetOf(FIRST_PORT), 5, call()),
    ]) {
      expect(await p.catch((e: unknown) => e)).to.be.instanceOf(UnsupportedOperationError);
    }
  });

  it('parses the agent metadata and validates options against it', async () => {
    const xml = execFileSync('fence_ipmilan', ['-o', 'metadata'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const meta = parseFenceMetadata(xml);
    expect(meta.name).to.equal('fence_ipmilan');
    expect([...meta.actions]).to.include.members([
      'on',
      'off',
      'reboot',
      'status',
      'monitor',
      'metadata',
      'validate-all',
    ]);
    expect(meta.parameters.get('ipport')?.type).to.equal('integer');
    expect(meta.parameters.get('auth')?.choices).to.deep.equal(['md5', 'password', 'none']);
    expect(meta.parameters.get('password')?.obsoletes).to.equal('passwd');
    const bad = new ScriptPowerDriver({ preset: 'fence-agent', fenceAgent: { agentOptions: { no_such_option: 1 } } });
    expect(await bad.status(targetOf(FIRST_PORT), call()).catch((e: unknown) => e)).to.be.instanceOf(ConfigError);
    const badChoice = new ScriptPowerDriver({ preset: 'fence-agent', fenceAgent: { agentOptions: { auth: 'rot13' } } });
    expect(String(await badChoice.status(targetOf(FIRST_PORT), call()).catch((e: unknown) => e))).to.match(
      /auth.*one of md5/,
    );
    const secretOpt = new ScriptPowerDriver({ preset: 'fence-agent', fenceAgent: { agentOptions: { passwd: 'x' } } });
    expect(await secretOpt.status(targetOf(FIRST_PORT), call()).catch((e: unknown) => e)).to.be.instanceOf(ConfigError);
    const preset = new FenceAgentPreset(
      { agentOptions: { power_wait: 1 } },
      {
        now: Date.now,
        setTimeout: (f, ms) => setTimeout(f, ms),
        clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
      },
    );
    const inv = await preset.prepare(
      { op: 'cycle', target: targetOf(FIRST_PORT), timeoutMs: 5000 },
      new AbortController().signal,
    );
    expect(inv.args).to.deep.equal([]);
    expect(inv.stdin!.split('\n')[0]).to.equal('action=reboot');
    expect(inv.stdin)
      .to.include('ipport=9105')
      .and.include('lanplus=1')
      .and.include('cipher=3')
      .and.include('power_wait=1');
    expect(inv.stdin).to.not.include(sims.password);
    expect(inv.env).to.have.property('IPMI_PASSWORD', sims.password);
  });

  it('a missing agent is a DriverError', async () => {
    const missing = new ScriptPowerDriver({ preset: 'fence-agent', fenceAgent: { agent: 'fence_does_not_exist' } });
    const err = await missing.status(targetOf(FIRST_PORT), call()).catch((e: unknown) => e);
    expect((err as Error).name).to.equal('DriverError');
    expect((err as Error).message).to.include('executable not found');
  });
});
