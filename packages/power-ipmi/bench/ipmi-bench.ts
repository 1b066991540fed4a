import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Secret } from '@hafence/core';
import type { PowerTarget } from '@hafence/core';
import { IpmiPowerDriver } from '@hafence/power-ipmi';
import { exec, opsPerSec, percentile, procCpu, report, totalCpu, type Side } from './measure.js';

// npm run bench:ipmi — every side measured in the same run, on loopback ports 9300–9359.
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const FIRST = 9300;
const COUNT = 50;
const SIM_PORT = 9350;
const PASSWORD = 'bench-pw-1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? '5');

const CALL = { signal: new AbortController().signal, timeoutMs: 10000 };
setMaxListeners(0, CALL.signal); // one signal shared by 50 concurrent calls

async function ours(
  name: string,
  targets: PowerTarget[],
  driver: IpmiPowerDriver,
  serverPids: number[],
  seconds: number,
): Promise<Side> {
  await Promise.all(targets.map((t) => driver.status(t, CALL))); // log in once
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const srv0 = totalCpu(serverPids);
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    targets.map(async (t) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await driver.status(t, CALL);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const wallMs = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  return {
    name,
    ops: latencies.length,
    wallMs,
    latencies,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
    serverCpuMs: totalCpu(serverPids) - srv0,
  };
}

async function tool(
  name: string,
  runOne: (i: number) => Promise<void>,
  ops: number,
  parallel: number,
  serverPids: number[],
): Promise<Side> {
  const latencies: number[] = [];
  const c0 = procCpu().children;
  const srv0 = totalCpu(serverPids);
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < ops) {
        const i = next++;
        const t0 = performance.now();
        await runOne(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return {
    name,
    ops,
    wallMs: performance.now() - start,
    latencies,
    clientCpuMs: procCpu().children - c0,
    serverCpuMs: totalCpu(serverPids) - srv0,
  };
}

function ipmitool(port: number, suite: number) {
  return async () => {
    const r = await exec(
      'ipmitool',
      [
        '-I',
        'lanplus',
        '-C',
        String(suite),
        '-H',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'admin',
        '-E',
        'chassis',
        'power',
        'status',
      ],
      { IPMI_PASSWORD: PASSWORD },
    );
    if (!/Chassis Power is (on|off)/.test(r.out)) throw new Error(`ipmitool failed: ${r.out}`);
  };
}

async function benchFifty(dir: string): Promise<void> {
  const env = { BMCSIM_RUN: join(dir, 'sims') };
  const started = await exec(
    'sh',
    [join(ROOT, 'scripts/bmc-sim/start-bmcs.sh'), String(COUNT), String(FIRST), 'admin', PASSWORD],
    env,
  );
  if (started.code !== 0) throw new Error(`start-bmcs.sh: ${started.out}`);
  try {
    const pids = (await readFile(join(dir, 'sims', 'bmcs.pids'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => Number(l.split(' ')[0]));
    const ports = Array.from({ length: COUNT }, (_, i) => FIRST + i);
    const driver = new IpmiPowerDriver();
    const targets = ports.map((port) => ({
      host: `bmc-${port}`,
      address: '127.0.0.1',
      port,
      username: 'admin',
      password: new Secret(PASSWORD),
    }));
    const a = await ours('hafence IpmiPowerDriver, 50 BMCs, sessions reused', targets, driver, pids, SECONDS);
    await driver.close();
    const seq = await tool('ipmitool -C 3, one after another', (i) => ipmitool(FIRST + (i % COUNT), 3)(), 100, 1, pids);
    const par = await tool('ipmitool -C 3, 16 in parallel', (i) => ipmitool(FIRST + (i % COUNT), 3)(), 320, 16, pids);
    const conf = join(dir, 'freeipmi.conf');
    await writeFile(conf, `username admin\npassword ${PASSWORD}\n`, { mode: 0o600 });
    const calls = 10;
    const pw = await tool(
      'ipmipower -I 3 over the 50-port range (per call)',
      async () => {
        const r = await exec('ipmipower', [
          '--config-file',
          conf,
          '-D',
          'LAN_2_0',
          '-I',
          '3',
          '-W',
          'opensesspriv',
          '-h',
          `127.0.0.1:[${FIRST}-${FIRST + COUNT - 1}]`,
          '--stat',
        ]);
        const answered = r.out.split('\n').filter((l) => /: (on|off)$/.test(l)).length;
        if (answered !== COUNT) throw new Error(`ipmipower answered ${answered}/${COUNT}: ${r.out.slice(0, 400)}`);
      },
      calls,
      1,
      pids,
    );
    const pwSide: Side = { ...pw, ops: calls * COUNT, note: 'latency is per ipmipower call of 50 statuses' };
    report('(a) 50 ipmi_sim BMCs on loopback, Get Chassis Status of all 50, repeated', [a, seq, par, pwSide]);
    const srvPerOp = a.serverCpuMs! / a.ops;
    const ceiling = (availableParallelism() * 1000) / srvPerOp;
    console.log(
      `server CPU per status during our run: ${srvPerOp.toFixed(2)} ms → ceiling on ${availableParallelism()} cores ≈ ${ceiling.toFixed(0)} ops/s`,
    );
    console.log(
      `ours / measured ceiling: ${((100 * opsPerSec(a)) / ceiling).toFixed(1)} %   ours / nominal 1000 ops/s: ${(opsPerSec(a) / 10).toFixed(1)} %`,
    );
    console.log(
      `ours / ipmipower: ${(opsPerSec(a) / opsPerSec(pwSide)).toFixed(2)}×   ours / ipmitool sequential: ${(opsPerSec(a) / opsPerSec(seq)).toFixed(1)}×   ours / ipmitool 16 parallel: ${(opsPerSec(a) / opsPerSec(par)).toFixed(1)}×`,
    );
  } finally {
    await exec('sh', [join(ROOT, 'scripts/bmc-sim/stop-bmcs.sh'), '--purge'], env);
  }
}

async function benchSimBmc(): Promise<void> {
  const server = spawn(
    process.execPath,
    [fileURLToPath(new URL('./sim-bmc-server.js', import.meta.url)), String(SIM_PORT)],
    {
      env: { ...process.env, SIMBMC_PASSWORD: PASSWORD },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.stdout!.once('data', () => resolve());
    server.once('exit', (c) => reject(new Error(`sim-bmc-server exited ${c}`)));
  });
  try {
    const sides: Side[] = [];
    for (const suite of [17, 3]) {
      const driver = new IpmiPowerDriver();
      const t = {
        host: 'simbmc',
        address: '127.0.0.1',
        port: SIM_PORT,
        username: 'admin',
        password: new Secret(PASSWORD),
        options: { cipherSuite: suite },
      };
      sides.push(
        await ours(
          `hafence IpmiPowerDriver -C ${suite}, one at a time`,
          [t],
          driver,
          [server.pid!],
          Math.min(3, SECONDS),
        ),
      );
      await driver.close();
      sides.push(
        await tool(`ipmitool -C ${suite}, one after another`, () => ipmitool(SIM_PORT, suite)(), 40, 1, [server.pid!]),
      );
    }
    report('(b) one SimBmc (separate process), per-op latency', sides);
    for (const [i, mine] of sides.entries()) {
      const theirs = sides[i + 1];
      if (i % 2 !== 0 || !theirs) continue; // pairs: ours, then ipmitool's
      const ratio = percentile(theirs.latencies, 50) / percentile(mine.latencies, 50);
      console.log(`${mine.name}: ipmitool p50 / ours p50 = ${ratio.toFixed(0)}×`);
    }
  } finally {
    server.kill('SIGTERM');
  }
}

const dir = await mkdtemp(join(tmpdir(), 'hafence-ipmi-bench-'));
try {
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(
    `bench:ipmi on ${availableParallelism()} cores, node ${process.version}, ${new Date().toISOString()}, load average ${load()}`,
  );
  await benchFifty(dir);
  await benchSimBmc();
  console.log(`load average at the end: ${load()} (other processes on the machine compete with every side alike)`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
