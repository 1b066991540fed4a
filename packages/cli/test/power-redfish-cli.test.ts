import { assert, expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedfishSim } from '@hafence/sim';
import { hafence } from './power-sim-helper.js';

const PASSWORD = 'cli-redfish-pw-5';
const DELAYS = { forceOffMs: 20, gracefulShutdownMs: 200, onMs: 20 };

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 1;
}

describe('hafence power --driver redfish (against RedfishSim)', function () {
  this.timeout(60_000);
  const sims: RedfishSim[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'hafence-cli-redfish-'));
  const env = { BMC_PW: PASSWORD, BAD_PW: 'not-it-9' };
  let closed = 0;
  const sim = (i: number): RedfishSim => {
    const s = sims[i];
    assert.exists(s, `simulated Redfish BMC ${i} started`);
    return s;
  };
  const caFile = (i: number) => join(dir, `ca-${i}.pem`);
  const redfish = (action: string, i: number, ...extra: string[]) =>
    hafence(
      [
        'power',
        action,
        '--driver',
        'redfish',
        '--host',
        `127.0.0.1:${sim(i).port}`,
        '--username',
        'admin',
        '--password-env',
        'BMC_PW',
        '--ca-file',
        caFile(i),
        ...extra,
      ],
      env,
    );

  before(async () => {
    for (const variant of ['generic', 'dell', 'supermicro'] as const) {
      const s = new RedfishSim({
        username: 'admin',
        password: PASSWORD,
        variant,
        powerDelays: DELAYS,
        initialPower: 'Off',
      });
      await s.start();
      writeFileSync(caFile(sims.length), s.certPem);
      sims.push(s);
    }
    closed = await closedPort();
  });
  after(async () => {
    await Promise.all(sims.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('status, on, off, identify and validate against the BMC whose CA is given', async () => {
    expect(await redfish('status', 0)).to.deep.include({ code: 0, stdout: 'off\n' });
    expect((await redfish('on', 0)).code).to.equal(0);
    expect(sim(0).resets.at(-1)?.resetType).to.equal('On');
    expect(JSON.parse((await redfish('status', 0, '--json')).stdout)).to.deep.equal({ state: 'on' });
    expect((await redfish('off', 0)).code).to.equal(0);
    expect(sim(0).resets.at(-1)?.resetType).to.equal('ForceOff');
    expect((await redfish('identify', 0)).code).to.equal(0);
    expect((await redfish('validate', 0)).code).to.equal(0);
    expect(await redfish('status', 1, '--system-id', 'System.Embedded.1')).to.deep.include({
      code: 0,
      stdout: 'off\n',
    });
  });

  it('cycle where the system does not offer PowerCycle exits 1 naming it, sending nothing', async () => {
    sim(2).setPowerState('On');
    const before = sim(2).resets.length;
    const r = await redfish('cycle', 2);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('HAF1005').and.include('PowerCycle');
    expect(sim(2).resets.length).to.equal(before);
  });

  it('a wrong password exits 3 and never prints the password', async () => {
    const r = await hafence(
      [
        'power',
        'status',
        '--driver',
        'redfish',
        '--host',
        `127.0.0.1:${sim(0).port}`,
        '--username',
        'admin',
        '--password-env',
        'BAD_PW',
        '--ca-file',
        caFile(0),
      ],
      env,
    );
    expect(r.code).to.equal(3);
    expect(r.stdout + r.stderr).to.not.include('not-it-9');
  });

  it('a closed port exits 4 within the configured timeout', async () => {
    const r = await hafence(
      [
        'power',
        'status',
        '--driver',
        'redfish',
        '--host',
        `127.0.0.1:${closed}`,
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
    expect(r.ms).to.be.lessThan(4000);
  });

  it('the self-signed certificate is refused (exit 5) unless --ca-file or --insecure-tls, which warns', async () => {
    const base = [
      'power',
      'status',
      '--driver',
      'redfish',
      '--host',
      `127.0.0.1:${sim(1).port}`,
      '--username',
      'admin',
      '--password-env',
      'BMC_PW',
    ];
    const refused = await hafence(base, env);
    expect(refused.code).to.equal(5);
    expect(refused.stderr).to.include('HAF1004');
    const insecure = await hafence([...base, '--insecure-tls'], env);
    expect(insecure).to.deep.include({ code: 0, stdout: 'off\n' });
    expect(insecure.stderr).to.include('insecureTls');
    expect(insecure.stderr + insecure.stdout).to.not.include(PASSWORD);
  });

  it('--targets runs every BMC and exits with the worst code', async () => {
    const file = join(dir, 'targets.txt');
    writeFileSync(file, `${sims.map((s) => `127.0.0.1:${s.port}`).join('\n')}\n127.0.0.1:${closed}\n`);
    for (const s of sims) s.setPowerState('On');
    const r = await hafence(
      [
        'power',
        'status',
        '--driver',
        'redfish',
        '--targets',
        file,
        '--username',
        'admin',
        '--password-env',
        'BMC_PW',
        '--insecure-tls',
        '--timeout-ms',
        '1500',
      ],
      env,
    );
    expect(r.code).to.equal(4);
    for (const s of sims) expect(r.stdout).to.include(`127.0.0.1:${s.port} on`);
    expect(r.stdout).to.include(`127.0.0.1:${closed} error`);
  });
});
