// Status sweep over 50 simulated BMCs (ipmi_sim on 127.0.0.1:9400-9449) through the
// script driver: the baseline the native IPMI driver must beat. Run: npm run bench.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PowerManagementService, Secret } from '@hafence/core';
import { ScriptPowerDriver, type ScriptPowerDriverOptions } from '@hafence/power-script';

const run = promisify(execFile);
const COUNT = 50;
const FIRST_PORT = 9400;
const USER = 'admin';
const PASSWORD = 'Bench-Pw-9400';

function simDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (dir !== '/' && !existsSync(join(dir, 'scripts', 'bmc-sim', 'start-bmcs.sh'))) dir = dirname(dir);
  return join(dir, 'scripts', 'bmc-sim');
}

const pct = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

interface SweepResult {
  readonly name: string;
  readonly concurrency: number;
  readonly ops: number;
  readonly failures: number;
  readonly p50: number;
  readonly p99: number;
  readonly wallMs: number;
}

async function sweep(
  name: string,
  driverOptions: ScriptPowerDriverOptions,
  concurrency: number,
  rounds: number,
): Promise<SweepResult> {
  const service = new PowerManagementService({
    drivers: [new ScriptPowerDriver(driverOptions)],
    config: { powerOpTimeout: 20_000 },
  });
  const hosts = Array.from({ length: COUNT }, (_, i) => `bmc${FIRST_PORT + i}`);
  hosts.forEach((host, i) =>
    service.register(host, {
      target: {
        host,
        address: '127.0.0.1',
        port: FIRST_PORT + i,
        username: USER,
        password: new Secret(PASSWORD),
        options: { cipher: 3 },
      },
    }),
  );
  const latencies: number[] = [];
  let failures = 0;
  let wallMs = 0;
  for (let r = 0; r < rounds; r++) {
    const queue = [...hosts];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let host = queue.shift(); host; host = queue.shift()) {
          const t0 = performance.now();
          try {
            await service.status(host, { by: 'operator' });
          } catch {
            failures++;
          }
          latencies.push(performance.now() - t0);
        }
      }),
    );
    wallMs += performance.now() - started;
  }
  await service.close();
  latencies.sort((a, b) => a - b);
  return {
    name,
    concurrency,
    ops: latencies.length,
    failures,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    wallMs: wallMs / rounds,
  };
}

async function main(): Promise<void> {
  const runDir = mkdtempSync(join(tmpdir(), 'hafence-bench-sim-'));
  const env = { ...process.env, BMCSIM_RUN: runDir, BMCSIM_POWER: 'on' };
  await run('sh', [join(simDir(), 'start-bmcs.sh'), String(COUNT), String(FIRST_PORT), USER, PASSWORD], { env });
  const results: SweepResult[] = [];
  try {
    const ipmitool: ScriptPowerDriverOptions = { preset: 'ipmitool' };
    const fence: ScriptPowerDriverOptions = { preset: 'fence-agent', fenceAgent: { agent: 'fence_ipmilan' } };
    await sweep('warm-up', ipmitool, 4, 1);
    results.push(await sweep('ipmitool sequential', ipmitool, 1, 2));
    results.push(await sweep('ipmitool', ipmitool, 16, 3));
    results.push(await sweep('fence_ipmilan', fence, 16, 2));
  } finally {
    await run('sh', [join(simDir(), 'stop-bmcs.sh'), '--purge'], { env });
    rmSync(runDir, { recursive: true, force: true });
  }
  console.log(
    `status sweep over ${COUNT} ipmi_sim BMCs through ScriptPowerDriver (${cpus().length} CPUs, Node ${process.version})`,
  );
  console.log('sweep                    conc  ops  fail  p50 ms  p99 ms  wall ms  ops/s');
  for (const r of results) {
    console.log(
      `${r.name.padEnd(24)} ${String(r.concurrency).padStart(4)} ${String(r.ops).padStart(4)} ${String(r.failures).padStart(5)}` +
        ` ${r.p50.toFixed(1).padStart(7)} ${r.p99.toFixed(1).padStart(7)} ${r.wallMs.toFixed(0).padStart(8)} ${(COUNT / (r.wallMs / 1000)).toFixed(1).padStart(6)}`,
    );
  }
  console.log(JSON.stringify({ bench: 'power-script.status-sweep', bmcs: COUNT, results }));
  if (results.some((r) => r.failures > 0)) process.exitCode = 1;
}

await main();
