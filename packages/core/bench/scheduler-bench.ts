/**
 * `npm run bench` — scheduler scale (issue: "10,000 and 100,000 resources, health interval
 * 10 s, an in-memory provider that answers in ~1 ms, 60 s of real time each").
 *
 * Each scenario runs in its own child process, so CPU time and peak RSS belong to that
 * scenario alone. A scenario builds the real {@link HaService} on the system clock with a
 * {@link FakeProvider} (1 ms answers, no call log), partitions z1 ⊃ p1 ⊃ clusters of 1,000
 * hosts, waits until every host is AVAILABLE (start-up, reported but
 * not measured), settles for `BENCH_WARMUP_SECONDS` (default 30), then measures for
 * `BENCH_SECONDS` (default 60): health checks started per second vs due (N / 10 s), p50 /
 * p99 / max lateness of check starts (start − due, via `healthProbe`), CPU % of one core
 * (`process.cpuUsage()` over the window) and peak RSS (`process.resourceUsage().maxRSS`).
 *
 * Environment: `BENCH_SECONDS`, `BENCH_WARMUP_SECONDS`, `BENCH_CONVERGE_MAX_SECONDS`
 * (default 240), `BENCH_SCENARIOS` (default `10000@50,100000@50,100000@200,100000@1000`: resources @
 * health concurrency limit), `BENCH_CPU_PROFILE` (a directory: writes a `.cpuprofile` of
 * each measured window), `BENCH_NODE_FLAGS` (extra flags for the scenario processes, e.g.
 * `--max-semi-space-size=64`).
 */
import { fork } from 'node:child_process';
import { loadavg, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HaService, systemClock } from '@hafence/core';
import { FakeProvider } from '@hafence/testkit';

const INTERVAL_MS = 10_000;
const HOSTS_PER_CLUSTER = 1_000;
const GOAL_P99_MS = 100;
const GOAL_CPU_PCT = 100;

interface Scenario {
  readonly resources: number;
  readonly health: number;
}

interface Result extends Scenario {
  readonly limits: Readonly<Record<string, number>>;
  readonly maxQueued: number;
  readonly setupMs: number;
  readonly convergedMs: number;
  readonly warmupMs: number;
  readonly windowMs: number;
  readonly checks: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Share of checks that started more than the goal's 100 ms late. */
  readonly lateShare: number;
  readonly cpuPct: number;
  readonly maxRssMb: number;
  readonly heapMb: number;
  readonly loopP99: number;
  readonly shed: number;
  readonly queuedPeak: number;
  readonly available: number;
  /** 1-minute load average at the end of the window (other processes share the cores). */
  readonly load1: number;
  /** Share of the window the main thread was runnable but waited for a core (Linux schedstat). */
  readonly runQueuePct: number;
}

/** Lateness histogram in whole milliseconds (the system clock's resolution). */
class Histogram {
  private readonly counts = new Float64Array(120_001);
  total = 0;
  max = 0;

  add(ms: number): void {
    const v = Math.max(0, Math.min(120_000, Math.round(ms)));
    this.counts[v] = (this.counts[v] ?? 0) + 1;
    this.total++;
    if (v > this.max) this.max = v;
  }

  /** Share of samples above `ms`. */
  above(ms: number): number {
    const n = this.counts.subarray(ms + 1).reduce((sum, count) => sum + count, 0);
    return this.total ? n / this.total : 0;
  }

  quantile(q: number): number {
    const rank = Math.ceil(q * this.total);
    let seen = 0;
    for (const [v, count] of this.counts.entries()) {
      seen += count;
      if (seen >= rank && seen > 0) return v;
    }
    return 0;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? Number.NaN : Number(raw);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

function scenarios(): Scenario[] {
  const raw = process.env.BENCH_SCENARIOS ?? '10000@50,100000@50,100000@200,100000@1000';
  return raw.split(',').map((s) => {
    const [resources = Number.NaN, health] = s.split('@').map(Number);
    return { resources, health: health || 50 };
  });
}

/**
 * Waits until every host is AVAILABLE (the start-up transitions are done), at most
 * `BENCH_CONVERGE_MAX_SECONDS`; returns the time since `t0`, or -1.
 */
async function converge(ha: HaService, resources: number, t0: number): Promise<number> {
  const limit = t0 + envNumber('BENCH_CONVERGE_MAX_SECONDS', 240) * 1000;
  while (performance.now() < limit) {
    await sleep(1000);
    const available = ha.list().filter((r) => r.state === 'AVAILABLE').length;
    if (available === resources) return performance.now() - t0;
  }
  return -1;
}

/** Run-queue wait of this process's main thread (ns), where Linux exposes it. */
function schedstat(): { waitNs: number } | undefined {
  try {
    const [, waitNs = Number.NaN] = readFileSync('/proc/self/schedstat', 'utf8').trim().split(/\s+/).map(Number);
    return Number.isFinite(waitNs) ? { waitNs } : undefined;
  } catch {
    return undefined;
  }
}

/** With `BENCH_CPU_PROFILE=<dir>`, profiles the measured window only; returns the stop. */
async function startProfile(): Promise<((name: string) => Promise<void>) | undefined> {
  const dir = process.env.BENCH_CPU_PROFILE;
  if (!dir) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async (name) => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(dir, name), JSON.stringify(profile));
    session.disconnect();
  };
}

async function runScenario(s: Scenario): Promise<Result> {
  const windowMs = envNumber('BENCH_SECONDS', 60) * 1000;
  const warmupMs = envNumber('BENCH_WARMUP_SECONDS', 30) * 1000;
  const lateness = new Histogram();
  let measuring = false;
  const provider = new FakeProvider({ latencyMs: 1, recordCalls: false });
  const ha = new HaService({
    providers: [provider],
    clock: systemClock,
    config: { startupGrace: 0, concurrency: { health: s.health }, defaults: { healthCheckInterval: INTERVAL_MS } },
    healthProbe: (dueAt, startedAt) => {
      if (measuring) lateness.add(startedAt - dueAt);
    },
  });
  const t0 = performance.now();
  await ha.start();
  await ha.addPartition({ id: 'z1', kind: 'zone', enabled: true, haEnabled: true });
  await ha.addPartition({ id: 'p1', kind: 'pod', parent: 'z1', enabled: true, haEnabled: true });
  for (let c = 0; c * HOSTS_PER_CLUSTER < s.resources; c++) {
    await ha.addPartition({ id: `c${c}`, kind: 'cluster', parent: 'p1', enabled: true, haEnabled: true });
  }
  for (let i = 0; i < s.resources; i++) {
    await ha.addResource({ ref: { type: 'host', id: `h${i}` }, partition: `c${Math.floor(i / HOSTS_PER_CLUSTER)}` });
  }
  const setupMs = performance.now() - t0;
  const convergedMs = await converge(ha, s.resources, t0);
  await sleep(warmupMs);

  const loop = monitorEventLoopDelay({ resolution: 10 });
  let queuedPeak = 0;
  const sampler = setInterval(() => (queuedPeak = Math.max(queuedPeak, ha.schedulerStats.queued)), 50);
  const shedBefore = ha.schedulerStats.shed;
  const profiler = await startProfile();
  const sched0 = schedstat();
  loop.enable();
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  measuring = true;
  await sleep(windowMs);
  measuring = false;
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - w0;
  const sched1 = schedstat();
  loop.disable();
  clearInterval(sampler);
  await profiler?.(`scheduler-${s.resources}-${s.health}.cpuprofile`);
  const available = ha.list().filter((r) => r.state === 'AVAILABLE').length;
  const result: Result = {
    ...s,
    limits: { ...ha.config.concurrency },
    maxQueued: ha.config.maxQueued,
    setupMs,
    convergedMs,
    warmupMs,
    windowMs: wall,
    checks: lateness.total,
    p50: lateness.quantile(0.5),
    p99: lateness.quantile(0.99),
    max: lateness.max,
    lateShare: lateness.above(GOAL_P99_MS),
    cpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    heapMb: process.memoryUsage().heapUsed / 2 ** 20,
    loopP99: loop.percentile(99) / 1e6,
    shed: ha.schedulerStats.shed - shedBefore,
    queuedPeak,
    available,
    load1: loadavg().at(0) ?? Number.NaN,
    runQueuePct: sched0 && sched1 ? ((sched1.waitNs - sched0.waitNs) / 1e6 / wall) * 100 : Number.NaN,
  };
  await ha.stop();
  return result;
}

function runChild(s: Scenario): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--scenario', JSON.stringify(s)], {
      execArgv: [
        ...process.execArgv,
        '--max-old-space-size=4096',
        ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: Result | undefined;
    child.on('message', (m) => (result = m as Result));
    child.on('error', reject);
    child.on('exit', (code) =>
      result ? resolve(result) : reject(new Error(`scenario ${JSON.stringify(s)} exited with ${code}`)),
    );
  });
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function meetsGoal(r: Result): boolean {
  const due = r.resources / (INTERVAL_MS / 1000);
  const achieved = r.checks / (r.windowMs / 1000);
  return r.p99 < GOAL_P99_MS && r.cpuPct < GOAL_CPU_PCT && achieved >= 0.98 * due && r.shed === 0;
}

function printTable(results: readonly Result[]): void {
  const header = [
    'resources',
    'health limit',
    'due/s',
    'achieved/s',
    'ratio',
    'p50 late',
    'p99 late',
    'max late',
    '> 100 ms',
    'CPU % core',
    'CPU µs/check',
    'peak RSS',
    'loop p99',
    'waited for CPU',
    'shed',
    'goal',
  ];
  const rows = results.map((r) => {
    const due = r.resources / (INTERVAL_MS / 1000);
    const achieved = r.checks / (r.windowMs / 1000);
    return [
      fmt(r.resources),
      String(r.health),
      fmt(due),
      fmt(achieved),
      `${fmt((achieved / due) * 100, 1)} %`,
      `${fmt(r.p50)} ms`,
      `${fmt(r.p99)} ms`,
      `${fmt(r.max)} ms`,
      `${fmt(r.lateShare * 100, 2)} %`,
      `${fmt(r.cpuPct, 1)} %`,
      fmt(((r.cpuPct / 100) * (r.windowMs / 1000) * 1e6) / Math.max(1, r.checks)),
      `${fmt(r.maxRssMb)} MB`,
      `${fmt(r.loopP99, 1)} ms`,
      Number.isNaN(r.runQueuePct) ? 'n/a' : `${fmt(r.runQueuePct, 1)} %`,
      fmt(r.shed),
      meetsGoal(r) ? 'met' : 'MISSED',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padStart(widths[i] ?? 0)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

async function main(): Promise<void> {
  const list = scenarios();
  const windowS = envNumber('BENCH_SECONDS', 60);
  const flags = process.env.BENCH_NODE_FLAGS ? `, node flags ${process.env.BENCH_NODE_FLAGS}` : '';
  console.log(
    `hafence scheduler bench — node ${process.version}${flags}, health interval ${INTERVAL_MS / 1000} s, provider latency 1 ms, ` +
      `clusters of ${fmt(HOSTS_PER_CLUSTER)} hosts, warm-up ${envNumber('BENCH_WARMUP_SECONDS', 30)} s, window ${windowS} s per scenario`,
  );
  console.log(
    `goal: ${fmt(100_000)} resources, p99 lateness < ${GOAL_P99_MS} ms, < 1 core, every due check run (≥ 98 %), nothing shed\n`,
  );
  const results: Result[] = [];
  for (const s of list) {
    console.log(`running ${fmt(s.resources)} resources, health concurrency ${s.health} …`);
    const r = await runChild(s);
    const converged =
      r.convergedMs < 0 ? 'NOT all AVAILABLE within the cap' : `all AVAILABLE after ${fmt(r.convergedMs / 1000, 1)} s`;
    console.log(
      `  setup ${fmt(r.setupMs / 1000, 1)} s, ${converged}, limits ${JSON.stringify(r.limits)}, maxQueued ${fmt(r.maxQueued)}, ` +
        `queue peak ${fmt(r.queuedPeak)}, AVAILABLE ${fmt(r.available)}/${fmt(r.resources)}, heap ${fmt(r.heapMb)} MB, ` +
        `load average ${fmt(r.load1, 2)} on ${cpus().length} cores`,
    );
    results.push(r);
  }
  console.log('');
  printTable(results);
}

const scenarioArg = process.argv.indexOf('--scenario');
if (scenarioArg >= 0) {
  const json = process.argv[scenarioArg + 1];
  if (json === undefined) throw new Error('--scenario needs the scenario as a JSON argument');
  const result = await runScenario(JSON.parse(json) as Scenario);
  process.send?.(result, () => process.exit(0));
} else {
  await main();
}
