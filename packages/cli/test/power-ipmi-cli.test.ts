import { assert, expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimBmc } from '@hafence/sim';
import { hafence } from './power-sim-helper.js';

const PASSWORD = 'cli-ipmi-pw-3';
const CLOSED_PORT = 9296;

describe('hafence power --driver ipmi (native RMCP+ against SimBmc)', function () {
  this.timeout(30_000);
  const bmcs: SimBmc[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'hafence-cli-ipmi-'));
  const env = { BMC_PW: PASSWORD, BAD_PW: 'not-it' };
  const bmc = (i: number): SimBmc => {
    const b = bmcs[i];
    assert.exists(b, `simulated BMC ${i} started`);
    return b;
  };
  const ipmi = (action: string, port: number, ...extra: string[]) =>
    hafence(
      [
        'power',
        action,
        '--driver',
        'ipmi',
        '--host',
        `127.0.0.1:${port}`,
        '--username',
        'admin',
        '--password-env',
        'BMC_PW',
        ...extra,
      ],
      env,
    );

  before(async () => {
    for (let i = 0; i < 3; i++)
      bmcs.push(
        await SimBmc.start({ users: [{ name: 'admin', password: PASSWORD, privilege: 4 }], power: 'OFF', cycleMs: 50 }),
      );
  });
  after(async () => {
    await Promise.all(bmcs.map((b) => b.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('status with cipher suite 17 (default) and 3', async () => {
    const b = bmc(0);
    expect(await ipmi('status', b.port)).to.deep.include({ code: 0, stdout: 'off\n' });
    b.chassis.power = 'ON';
    expect(await ipmi('status', b.port, '--cipher', '3')).to.deep.include({ code: 0, stdout: 'on\n' });
    expect(JSON.parse((await ipmi('status', b.port, '--json')).stdout)).to.deep.equal({ state: 'on' });
  });

  it('on, off, identify and validate change (or keep) the simulated chassis', async () => {
    const b = bmc(1);
    expect((await ipmi('on', b.port)).code).to.equal(0);
    expect(b.chassis.power).to.equal('ON');
    expect((await ipmi('off', b.port)).code).to.equal(0);
    expect(b.chassis.power).to.equal('OFF');
    expect((await ipmi('identify', b.port, '--seconds', '4')).code).to.equal(0);
    expect(b.chassis.identifySeconds).to.equal(4);
    expect((await ipmi('validate', b.port)).code).to.equal(0);
    expect(b.chassis.power).to.equal('OFF');
  });

  it('a wrong password exits 3 and never prints the password', async () => {
    const r = await hafence(
      [
        'power',
        'status',
        '--driver',
        'ipmi',
        '--host',
        `127.0.0.1:${bmc(0).port}`,
        '--username',
        'admin',
        '--password-env',
        'BAD_PW',
      ],
      env,
    );
    expect(r.code).to.equal(3);
    expect(r.stdout + r.stderr).to.not.include('not-it');
  });

  it('a closed port exits 4 within the configured timeout', async () => {
    const r = await ipmi('status', CLOSED_PORT, '--timeout-ms', '1000');
    expect(r.code).to.equal(4);
    expect(r.ms).to.be.lessThan(4000);
  });

  it('--targets runs every BMC and exits with the worst code', async () => {
    const file = join(dir, 'targets.txt');
    writeFileSync(file, `${bmcs.map((b) => `127.0.0.1:${b.port}`).join('\n')}\n127.0.0.1:${CLOSED_PORT}\n`);
    for (const b of bmcs) b.chassis.power = 'ON';
    const r = await hafence(
      [
        'power',
        'status',
        '--driver',
        'ipmi',
        '--targets',
        file,
        '--username',
        'admin',
        '--password-env',
        'BMC_PW',
        '--timeout-ms',
        '1000',
      ],
      env,
    );
    expect(r.code).to.equal(4);
    for (const b of bmcs) expect(r.stdout).to.include(`127.0.0.1:${b.port} on`);
  });
});
