import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  AuthError,
  PowerManagementService,
  Secret,
  TimeoutError,
  type HaEvent,
  type PowerTarget,
  type PowerTransition,
} from '@hafence/core';
import { ScriptPowerDriver } from '@hafence/power-script';
import { BmcSims } from './helpers/bmc-sim.js';

const run = promisify(execFile);
const FIRST_PORT = 9112;
const DEAD_PORT = 9197;

describe('PowerManagementService with script drivers against ipmi_sim', () => {
  let sims: BmcSims;
  let service: PowerManagementService;
  const events: HaEvent[] = [];
  const logs: string[] = [];
  const log = (m: string, f?: object) => logs.push(`${m} ${JSON.stringify(f ?? {})}`);
  const next = (want: (t: PowerTransition) => boolean) =>
    new Promise<PowerTransition>((resolve) => {
      const sub = service.transitions$.subscribe((t) => {
        if (!want(t)) return;
        sub.unsubscribe();
        resolve(t);
      });
    });
  const target = (port: number, password = sims.password): PowerTarget => ({
    host: `kvm${port}`,
    address: '127.0.0.1',
    port,
    username: sims.user,
    password: new Secret(password),
    options: { cipher: 3 },
  });

  before(async function () {
    this.timeout(30_000);
    sims = await BmcSims.start(2, FIRST_PORT);
    service = new PowerManagementService({
      drivers: [
        new ScriptPowerDriver({ name: 'broken', preset: 'ipmitool', ipmitool: { command: '/nonexistent/ipmitool' } }),
        new ScriptPowerDriver({ name: 'ipmitool', preset: 'ipmitool' }),
        new ScriptPowerDriver({ name: 'fence', preset: 'fence-agent', fenceAgent: { agent: 'fence_ipmilan' } }),
      ],
      config: { powerOpTimeout: 8000, powerSyncInterval: 300, jitterFraction: 0.2, powerReadsToUnknown: 2 },
      logger: { debug: log, info: log, warn: log, error: log },
    });
    service.events$.subscribe((e) => events.push(e));
  });
  after(async function () {
    this.timeout(30_000);
    await service?.close();
    await sims?.stop();
  });

  it('falls back from a broken driver to a working one, and the chassis changes', async function () {
    this.timeout(20_000);
    service.register('a', { drivers: ['broken', 'fence'], target: target(FIRST_PORT) });
    sims.setPower(FIRST_PORT, 'OFF');
    expect(await service.status('a', { by: 'operator' })).to.equal('OFF');
    await service.command('a', 'on', { by: 'operator' });
    expect(sims.readPower(FIRST_PORT)).to.equal('ON');
    expect(await service.status('a', { by: 'ha' })).to.equal('ON');
    expect(service.state('a')).to.equal('ON');
    expect(logs.some((l) => l.includes('power driver failed') && l.includes('executable not found'))).to.equal(true);
  });

  it('the sync daemon follows a change made behind its back with ipmitool', async function () {
    this.timeout(20_000);
    service.register('b', { drivers: ['ipmitool'], target: target(FIRST_PORT + 1) });
    sims.setPower(FIRST_PORT + 1, 'ON');
    const on = next((t) => t.host === 'b' && t.to === 'ON');
    service.startSync();
    expect(await on).to.deep.include({ from: 'UNKNOWN', to: 'ON', by: 'sync' });
    const off = next((t) => t.host === 'b' && t.to === 'OFF');
    await run(
      'ipmitool',
      [
        '-I',
        'lanplus',
        '-H',
        '127.0.0.1',
        '-p',
        String(FIRST_PORT + 1),
        '-U',
        sims.user,
        '-E',
        '-C',
        '3',
        'chassis',
        'power',
        'off',
      ],
      { env: { ...process.env, IPMI_PASSWORD: sims.password } },
    );
    expect(await off).to.deep.include({ host: 'b', from: 'ON', to: 'OFF', by: 'sync' });
    service.stopSync();
  });

  it('a wrong password fails through the whole chain as AuthError, reported once', async function () {
    this.timeout(20_000);
    service.register('c', { drivers: ['ipmitool', 'fence'], target: target(FIRST_PORT, 'Wrong-Svc-Pw-8') });
    const err = await service.status('c', { by: 'sync' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AuthError);
    await service.validate('c', { by: 'operator' }).catch(() => {});
    expect(events.filter((e) => e.type === 'power.auth-failed' && e.host === 'c')).to.have.length(1);
  });

  it('a port where nothing listens is a TimeoutError within the host timeout', async function () {
    this.timeout(10_000);
    service.register('d', { drivers: ['fence'], target: target(DEAD_PORT), timeoutMs: 1000 });
    const started = Date.now();
    expect(await service.status('d', { by: 'operator' }).catch((e: unknown) => e)).to.be.instanceOf(TimeoutError);
    expect(Date.now() - started).to.be.lessThan(2500);
  });

  it('no event or log line of these runs contains a password', () => {
    const all = JSON.stringify(events) + logs.join('\n');
    expect(events.length).to.be.greaterThan(5);
    expect(all).to.not.include(sims.password).and.not.include('Wrong-Svc-Pw-8');
    // the failure streak's event carries the driver's error text: it is checked too
    expect(events.some((e) => e.type === 'power.read-failing' && e.host === 'c')).to.equal(true);
  });
});
