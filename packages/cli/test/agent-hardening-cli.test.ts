import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  HaService,
  MemoryStateStore,
  parseConfig,
  PowerManagementService,
  Secret,
  systemClock,
  type HaEvent,
} from '@hafence/core';
import {
  HostAgent,
  HttpAgentConnectivity,
  HttpNeighborExecutor,
  KvmProvider,
  SimulatedWatchdog,
} from '@hafence/provider-kvm';
import { FakePowerDriver } from '@hafence/testkit';
import { freePorts, waitFor } from './e2e-kvm-processes.js';
import { HAFENCE_BIN } from './power-sim-helper.js';

const TOKEN = 'flood-agent-token-7c2e9a41d0b3f';
const NOFILE = 256;
const IDLE = 2 * NOFILE;
const BURST = 200;
const FLOOD_MS = 24_000;

/**
 * SPEC §5.1 "the agent never mistakes its own trouble for isolation", with real processes
 * on loopback: an armed `hafence agent` under `prlimit --nofile=256:256` (a plain file
 * as its watchdog device) gets 512 idle TCP connections, kept open from 32 source
 * addresses, plus bursts of 200 unauthenticated requests declaring 10 MB bodies. For the
 * whole flood its heartbeat counter advances every interval, the watchdog is fed, it
 * never self-fences, and it answers an authenticated health request at the end. An HA
 * engine watching it (in this process: the KVM provider over HTTP, two more agents as its
 * neighbours on the same mount, a fake power driver) takes no power action on it.
 */
describe('hafence agent under a connection flood (real process, prlimit --nofile=256)', function () {
  this.timeout(FLOOD_MS + 40_000);
  const dir = mkdtempSync(join(tmpdir(), 'hafence-agent-flood-'));
  const mount = join(dir, 'mount');
  const tokenFile = join(dir, 'agent.token');
  const watchdogFile = join(dir, 'watchdog');
  const hbFile = join(mount, 'hafence', 'hb-h1');
  const sockets = new Set<Socket>();
  let agent: ChildProcess | undefined;
  let exited = false;
  let stderr = '';
  let flooding = false;
  let engine: { service: HaService; power: PowerManagementService; neighbours: HostAgent[] } | undefined;
  const events: HaEvent[] = [];
  const driver = new FakePowerDriver();

  /**
   * The HA engine of the issue, in this process and in real time, watching h1 (the flooded agent) with h2, h3 as
   * neighbours.
   */
  async function startEngine(h1Port: number): Promise<void> {
    const token = new Secret(TOKEN);
    const neighbours = ['h2', 'h3'].map(
      (id) =>
        new HostAgent({
          hostId: id,
          mount,
          token,
          watchdog: new SimulatedWatchdog(systemClock),
          heartbeatIntervalMs: 1_000,
          selfFenceAfterMs: 30_000,
        }),
    );
    const urls: Record<string, string> = { h1: `http://127.0.0.1:${h1Port}` };
    for (const [i, a] of neighbours.entries()) urls[`h${i + 2}`] = `http://127.0.0.1:${(await a.start()).port}`;
    const config = parseConfig({
      startupGrace: 0,
      defaultPowerDrivers: ['fake'],
      defaults: {
        healthCheckInterval: 1_000,
        healthCheckTimeout: 5_000,
        activityCheckInterval: 2_000,
        maxActivityCheckInterval: 4_000,
        activityCheckTimeout: 15_000,
        inactiveChecksToRecover: 2,
        maxUnhealthyFraction: 0.7,
        powerOpTimeout: 5_000,
        recoverRetryDelay: 2_000,
      },
    });
    const power = new PowerManagementService({
      clock: systemClock,
      drivers: [driver],
      config: { defaultPowerDrivers: ['fake'], powerSyncInterval: 1_000 },
    });
    const ports = { agents: urls, token, replyTimeoutMs: 5_000 };
    const provider = new KvmProvider({
      agents: new HttpAgentConnectivity(ports),
      neighbors: new HttpNeighborExecutor(ports),
      powerState: (h) => power.state(h),
      inventory: { facts: () => ({ hypervisor: 'KVM', sharedPoolMounted: true, maintenance: false }) },
      heartbeatIntervalMs: 1_000,
      activityWindowMs: 2_000,
      replyTimeoutMs: 5_000,
      powerPollMs: 250,
    });
    const service = new HaService({
      providers: [provider],
      clock: systemClock,
      store: new MemoryStateStore(),
      config,
      power,
    });
    service.events$.subscribe((e) => events.push(e));
    power.events$.subscribe((e) => events.push(e));
    engine = { service, power, neighbours };
    await service.start();
    await service.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
    for (const id of ['h1', 'h2', 'h3']) {
      const binding = { target: { host: id, address: '127.0.0.1', username: 'admin', password: new Secret('pw') } };
      power.register(id, binding);
      await service.addResource({ ref: { type: 'host', id }, partition: 'c1', power: binding });
    }
    power.startSync();
  }

  async function stopEngine(): Promise<void> {
    if (!engine) return;
    engine.power.stopSync();
    await engine.service.stop();
    await engine.power.close();
    await Promise.all(engine.neighbours.map((a) => a.stop()));
    engine = undefined;
  }

  after(async () => {
    await stopEngine();
    flooding = false;
    for (const s of sockets) s.destroy();
    if (agent && !exited) {
      try {
        process.kill(-agent.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  function counter(): number | undefined {
    try {
      return (JSON.parse(readFileSync(hbFile, 'utf8')) as { counter: number }).counter;
    } catch {
      return undefined;
    }
  }

  /** An idle connection from 127.0.0.<10+k>; reopened when the agent closes it while the flood lasts. */
  function idle(port: number, k: number): void {
    if (!flooding) return; // a reopen scheduled just before the flood ended
    const s = connect({ port, host: '127.0.0.1', localAddress: `127.0.0.${10 + (k % 32)}` });
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => {
      sockets.delete(s);
      if (flooding) setTimeout(() => idle(port, k), 100);
    });
  }

  /** An unauthenticated POST declaring a 10 MB body, then pushing 256 KB of it. */
  function unauthenticated(port: number): void {
    const s = connect({ port, host: '127.0.0.1' });
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.on('connect', () => {
      s.write(
        `POST /arm HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`,
      );
      for (let i = 0; i < 4; i++) s.write(Buffer.alloc(64 * 1024, 0x20));
    });
    s.setTimeout(10_000, () => s.destroy());
  }

  function health(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/health',
          localAddress: '127.0.0.2',
          headers: { authorization: `Bearer ${TOKEN}` },
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
      req.on('timeout', () => req.destroy(new Error('health timed out')));
      req.on('error', reject);
      req.end();
    });
  }

  it('keeps writing its heartbeat, keeps feeding the watchdog, never self-fences, answers health at the end', async () => {
    writeFileSync(tokenFile, `${TOKEN}\n`);
    chmodSync(tokenFile, 0o600);
    writeFileSync(watchdogFile, '');
    const [port] = await freePorts(1);
    agent = spawn(
      'prlimit',
      [
        `--nofile=${NOFILE}:${NOFILE}`,
        process.execPath,
        HAFENCE_BIN,
        'agent',
        '--host-id',
        'h1',
        '--mount',
        mount,
        '--listen',
        `127.0.0.1:${port}`,
        '--token-file',
        tokenFile,
        '--heartbeat-interval',
        '1s',
        '--self-fence-after',
        '5s',
        '--watchdog',
        'device',
        '--watchdog-device',
        watchdogFile,
        '--armed',
        '--stop-vms',
        'none',
      ],
      { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    agent.stderr!.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    agent.once('exit', () => {
      exited = true;
    });
    await waitFor('agent started', 10_000, () => stderr.includes('agent started'));
    await waitFor('first heartbeat', 5_000, () => counter() !== undefined);
    await startEngine(port!);
    const h1State = () =>
      events
        .filter((e) => e.type === 'resource.transition' && e.resource === 'h1')
        .map((e) => (e as { to: string }).to)
        .at(-1);
    await waitFor('the engine sees h1 AVAILABLE', 20_000, () => h1State() === 'AVAILABLE');

    flooding = true;
    for (let k = 0; k < IDLE; k++) idle(port!, k);
    const start = Date.now();
    const samples: { t: number; counter: number | undefined; watchdog: number }[] = [];
    let bursts = 0;
    while (Date.now() - start < FLOOD_MS) {
      if (Date.now() - start > 2_000 + bursts * 8_000) {
        bursts++;
        for (let i = 0; i < BURST; i++) unauthenticated(port!);
      }
      samples.push({ t: Date.now() - start, counter: counter(), watchdog: statSync(watchdogFile).size });
      await new Promise((r) => setTimeout(r, 500));
    }

    expect(exited, 'the agent is still running').to.equal(false);
    expect(stderr, 'no self-fence').to.not.match(/self-fenc/);
    // Every 3 s window of the flood saw the heartbeat counter advance (interval 1 s).
    for (const s of samples.filter((x) => x.t >= 3_000)) {
      const before = samples.filter((x) => x.t <= s.t - 3_000).at(-1)!;
      expect(s.counter ?? -1, `heartbeat counter advanced between ${before.t} ms and ${s.t} ms`).to.be.greaterThan(
        before.counter ?? -1,
      );
      expect(s.watchdog, `watchdog fed between ${before.t} ms and ${s.t} ms`).to.be.greaterThan(before.watchdog);
    }
    const answer = await health(port!);
    expect(answer.status).to.equal(200);
    expect(answer.body).to.include({ connected: true, storageOk: true });
    // The engine took no power action on any host, and never began recovering or fencing h1.
    await stopEngine();
    const h1Path = events
      .filter((e) => e.type === 'resource.transition' && e.resource === 'h1')
      .map((e) => (e as { to: string }).to);
    expect(h1Path, 'h1 states').to.not.include.members(['RECOVERING', 'FENCING', 'FENCED', 'FAILED']);
    expect(
      events.filter((e) => e.type === 'power.action'),
      'power actions',
    ).to.deep.equal([]);
    for (const id of ['h1', 'h2', 'h3'])
      expect(
        driver.host(id).log.filter((op) => op !== 'status'),
        id,
      ).to.deep.equal([]);
    // The caps did the work, and failed authentications were logged, rate-limited, with their source.
    expect(stderr).to.include('connections dropped by the caps');
    const authLines = stderr.split('\n').filter((l) => l.includes('authentication failed'));
    expect(authLines.length).to.be.within(1, 20);
    expect(authLines[0]).to.include('"source":"127.0.0.1"');

    flooding = false;
    for (const s of sockets) s.destroy();
    await waitFor('sockets closed', 5_000, () => sockets.size === 0);
    process.kill(-agent.pid!, 'SIGTERM');
    await waitFor('agent exited', 5_000, () => exited);
    expect(readFileSync(watchdogFile, 'latin1')).to.not.include('V'); // stopped by SIGTERM: armed, no magic close
  });
});

describe('hafence agent --listen without an address', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'hafence-agent-listen-'));
  const tokenFile = join(dir, 'agent.token');
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const form of ['PORT', ':PORT']) {
    it(`--listen ${form} binds to 127.0.0.1 with a warning, never to every interface`, async () => {
      writeFileSync(tokenFile, `${TOKEN}\n`);
      chmodSync(tokenFile, 0o600);
      const [port] = await freePorts(1);
      const child = spawn(
        process.execPath,
        [
          HAFENCE_BIN,
          'agent',
          '--host-id',
          'h1',
          '--mount',
          join(dir, 'mount'),
          '--listen',
          form.replace('PORT', String(port)),
          '--token-file',
          tokenFile,
          '--watchdog',
          'none',
          '--stop-vms',
          'none',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let err = '';
      child.stderr!.setEncoding('utf8').on('data', (c: string) => {
        err += c;
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        await waitFor('agent started', 10_000, () => err.includes('agent started'));
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
      const lines = err
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { level: string; message: string; listen?: string });
      expect(lines.find((l) => l.message === 'agent started')?.listen).to.equal(`127.0.0.1:${port}`);
      expect(lines.some((l) => l.level === 'warn' && l.message.includes('127.0.0.1 only'))).to.equal(true);
    });
  }
});
