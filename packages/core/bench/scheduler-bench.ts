/**
 * `npm run bench` — 100,000 resources on one process (issue 13).
 *
 * Each scenario runs in its own child process, so CPU time and peak RSS belong to that
 * scenario alone. An engine scenario builds the real {@link HaService} on the system clock
 * with a {@link FakeProvider} (1 ms answers, no call log) over a memory store whose writes
 * are counted, partitions z1 ⊃ p1 ⊃ clusters of 1,000 hosts, waits until every host is
 * AVAILABLE (start-up: reported, not measured), settles for `BENCH_WARMUP_SECONDS`
 * (default 20), then measures for `BENCH_SECONDS` (default 40): checks started per second
 * vs due (N / 10 s), p50 / p99 / max lateness of check starts (start − due, via
 * `healthProbe`), CPU % of one core and CPU µs per check (`process.cpuUsage()` over the
 * window), GC count / time / longest pause (`PerformanceObserver('gc')`), heap after
 * start-up, peak RSS (`process.resourceUsage().maxRSS`, start-up included) and RSS at the
 * end, and the store writes of the window (routine passing checks write nothing).
 *
 * The floor runs beside it, in the same run and its own child process: bare Node timers
 * plus a trivial async check (a 1 ms timer) per resource, same N, same interval and jitter.
 * Every engine figure is printed with its ratio to the floor's.
 *
 * The CPU profile is taken in a SEPARATE window after the measured one (profiling costs
 * CPU): its top-10 self-time functions are printed for the scenarios `BENCH_PROFILE` names.
 *
 * Environment: `BENCH_SECONDS`, `BENCH_WARMUP_SECONDS`, `BENCH_CONVERGE_MAX_SECONDS`
 * (default 240), `BENCH_SCENARIOS` (default `10000@50,100000@50`: resources @ health
 * concurrency limit), `BENCH_FLOOR` (`0`: no floor runs), `BENCH_PROFILE` (resource counts
 * whose scenario gets a profiled window, default `100000`; `0`: none), `BENCH_PROFILE_SECONDS`
 * (default 10), `BENCH_CPU_PROFILE` (a directory: also writes each `.cpuprofile`),
 * `BENCH_STRETCH=1` (adds the 1,000,000-resource stretch scenario and its floor),
 * `BENCH_NODE_FLAGS` (extra flags for the scenario processes; the goals are for default flags).
 */
import { fork } from 'node:child_process';
import { loadavg, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HaService, MemoryStateStore, systemClock, type StateStore } from '@hafence/core';
import { FakeProvider } from '@hafence/testkit';
import { Histogram } from './histogram.js';
import { selfTimeTop, startCpuProfile, type SelfTime } from './profile-summary.js';
import { startFloor } from './floor.js';

const INTERVAL_MS = 10_000;
const LATENCY_MS = 1;
const HOSTS_PER_CLUSTER = 1_000;
const GOAL = { p99Ms: 20, cpuPct: 25, rssMb: 1024, runShare: 0.999 } as const;
const STRETCH = 1_000_000;

interface Scenario {
  readonly resources: number;
  readonly health: number;
  readonly kind: 'engine' | 'floor';
  readonly profile: boolean;
}

interface Result extends Scenario {
  readonly limits: Readonly<Record<string, number>>;
  readonly maxQueued: number;
  readonly setupMs: number;
  readonly convergedMs: number;
  readonly windowMs: number;
  readonly checks: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** p99 of the timer part of lateness (timer fired − due). */
  readonly timerP99: number;
  /** p99 and max of the wait for a free health slot (started − timer fired). */
  readonly slotWaitP99: number;
  readonly slotWaitMax: number;
  /** Share of checks that started more than the goal's p99 late. */
  readonly lateShare: number;
  readonly cpuPct: number;
  /** % of one core used by the main thread, and by every other thread together (from /proc/self/task). */
  readonly mainThreadPct: number;
  readonly otherThreadsPct: number;
  readonly gcCount: number;
  readonly gcMs: number;
  readonly gcMaxMs: number;
  readonly maxRssMb: number;
  readonly rssMb: number;
  /** Heap used once every resource is AVAILABLE, after a full GC when exposed (else as found). */
  readonly heapStartMb: number;
  readonly heapMb: number;
  readonly loopP99: number;
  readonly shed: number;
  readonly queuedPeak: number;
  readonly available: number;
  readonly storeWrites: number;
  /** 1-minute load average at the end of the window (other processes share the cores). */
  readonly load1: number;
  /** Share of the window the main thread was runnable but waited for a core (Linux schedstat). */
  readonly runQueuePct: number;
  /** Top-10 self time of the separate profiled window. */
  readonly profileTop?: readonly SelfTime[];
  readonly profileMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? Number.NaN : Number(raw);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

function scenarios(): Scenario[] {
  const raw = process.env.BENCH_SCENARIOS ?? '10000@50,100000@50';
  const profiled = new Set((process.env.BENCH_PROFILE ?? '100000').split(',').map(Number));
  const engine = raw.split(',').map((s) => {
    const [resources = Number.NaN, health] = s.split('@').map(Number);
    return { resources, health: health || 50, kind: 'engine' as const, profile: profiled.has(resources) };
  });
  if (process.env.BENCH_STRETCH === '1' && !engine.some((s) => s.resources === STRETCH))
    engine.push({ resources: STRETCH, health: 50, kind: 'engine', profile: false });
  if (process.env.BENCH_FLOOR === '0') return engine;
  const out: Scenario[] = [];
  const floors = new Set<number>();
  for (const s of engine) {
    if (!floors.has(s.resources)) out.push({ resources: s.resources, health: 0, kind: 'floor', profile: false });
    floors.add(s.resources);
    out.push(s);
  }
  return out;
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

/** CPU ticks (user + system) of this process's threads: the main thread's, and every other thread's together. */
function threadTicks(): { main: number; others: number } | undefined {
  try {
    let main = 0;
    let others = 0;
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      if (Number(tid) === process.pid) main += ticks;
      else others += ticks;
    }
    return { main, others };
  } catch {
    return undefined;
  }
}

/** A memory store whose writes are counted. */
function countingStore(): { store: StateStore; writes: () => number } {
  const store = new MemoryStateStore();
  let writes = 0;
  const names = [
    'saveResource',
    'deleteResource',
    'savePartition',
    'appendFenceLog',
    'takeStop',
    'putIntent',
    'clearIntent',
    'recordArm',
    'appendEvent',
  ] as const;
  const target = store as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of names) {
    const write = target[name]!.bind(store);
    target[name] = (...args: unknown[]) => {
      writes++;
      return write(...args);
    };
  }
  return { store, writes: () => writes };
}

const heapUsedMb = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

/** Counts GC runs and their time while enabled. */
function gcMeter(): { stop: () => { count: number; ms: number; maxMs: number } } {
  let count = 0;
  let ms = 0;
  let maxMs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      count++;
      ms += e.duration;
      maxMs = Math.max(maxMs, e.duration);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return {
    stop: () => {
      obs.disconnect();
      return { count, ms, maxMs };
    },
  };
}

async function runScenario(s: Scenario): Promise<Result> {
  const windowMs = envNumber('BENCH_SECONDS', 40) * 1000;
  const warmupMs = envNumber('BENCH_WARMUP_SECONDS', 20) * 1000;
  const lateness = new Histogram();
  let measuring = false;
  const timerLate = new Histogram();
  const slotWait = new Histogram();
  const probe = (dueAt: number, startedAt: number, firedAt = startedAt) => {
    if (!measuring) return;
    lateness.add(startedAt - dueAt);
    timerLate.add(firedAt - dueAt);
    slotWait.add(startedAt - firedAt);
  };
  const t0 = performance.now();
  let ha: HaService | undefined;
  let stopFloor: (() => void) | undefined;
  let writes = () => 0;
  let setupMs: number;
  let convergedMs: number;
  if (s.kind === 'floor') {
    stopFloor = startFloor(s.resources, INTERVAL_MS, LATENCY_MS, probe);
    setupMs = convergedMs = performance.now() - t0;
  } else {
    const counted = countingStore();
    writes = counted.writes;
    const service = new HaService({
      providers: [new FakeProvider({ latencyMs: LATENCY_MS, recordCalls: false })],
      clock: systemClock,
      store: counted.store,
      config: { startupGrace: 0, concurrency: { health: s.health }, defaults: { healthCheckInterval: INTERVAL_MS } },
      healthProbe: probe,
    });
    ha = service;
    await service.start();
    await service.addPartition({ id: 'z1', kind: 'zone', enabled: true, haEnabled: true });
    await service.addPartition({ id: 'p1', kind: 'pod', parent: 'z1', enabled: true, haEnabled: true });
    for (let c = 0; c * HOSTS_PER_CLUSTER < s.resources; c++) {
      await service.addPartition({ id: `c${c}`, kind: 'cluster', parent: 'p1', enabled: true, haEnabled: true });
    }
    for (let i = 0; i < s.resources; i++) {
      const ref = { type: 'host', id: `h${i}` };
      await service.addResource({ ref, partition: `c${Math.floor(i / HOSTS_PER_CLUSTER)}` });
    }
    setupMs = performance.now() - t0;
    convergedMs = await converge(service, s.resources, t0);
  }
  const heapStartMb = heapUsedMb();
  await sleep(warmupMs);

  const loop = monitorEventLoopDelay({ resolution: 10 });
  let queuedPeak = 0;
  const sampler = setInterval(() => (queuedPeak = Math.max(queuedPeak, ha?.schedulerStats.queued ?? 0)), 50);
  const shedBefore = ha?.schedulerStats.shed ?? 0;
  const writesBefore = writes();
  const sched0 = schedstat();
  const gc = gcMeter();
  loop.enable();
  const cpu0 = process.cpuUsage();
  const threads0 = threadTicks();
  const w0 = performance.now();
  measuring = true;
  await sleep(windowMs);
  measuring = false;
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - w0;
  const threads1 = threadTicks();
  const gcs = gc.stop();
  const sched1 = schedstat();
  loop.disable();
  clearInterval(sampler);
  const storeWrites = writes() - writesBefore;
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
  let profileTop: SelfTime[] | undefined;
  let profileMs: number | undefined;
  if (s.profile) {
    // A separate window: the figures above are measured without the profiler.
    const stop = await startCpuProfile();
    const p0 = performance.now();
    await sleep(envNumber('BENCH_PROFILE_SECONDS', 10) * 1000);
    const profile = await stop();
    profileMs = performance.now() - p0;
    profileTop = selfTimeTop(profile, 10);
    const dir = process.env.BENCH_CPU_PROFILE;
    if (dir) writeFileSync(join(dir, `${s.kind}-${s.resources}-${s.health}.cpuprofile`), JSON.stringify(profile));
  }
  const available = ha ? ha.list().filter((r) => r.state === 'AVAILABLE').length : s.resources;
  const result: Result = {
    ...s,
    limits: ha ? { ...ha.config.concurrency } : {},
    maxQueued: ha?.config.maxQueued ?? 0,
    setupMs,
    convergedMs,
    windowMs: wall,
    checks: lateness.total,
    p50: lateness.quantile(0.5),
    p99: lateness.quantile(0.99),
    max: lateness.max,
    lateShare: lateness.above(GOAL.p99Ms),
    timerP99: timerLate.quantile(0.99),
    slotWaitP99: slotWait.quantile(0.99),
    slotWaitMax: slotWait.max,
    cpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100,
    // Clock ticks are 10 ms (USER_HZ 100): % of one core = ticks × 10 ms / wall × 100.
    mainThreadPct: threads0 && threads1 ? ((threads1.main - threads0.main) * 1000) / wall : Number.NaN,
    otherThreadsPct: threads0 && threads1 ? ((threads1.others - threads0.others) * 1000) / wall : Number.NaN,
    gcCount: gcs.count,
    gcMs: gcs.ms,
    gcMaxMs: gcs.maxMs,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    rssMb,
    heapStartMb,
    heapMb,
    loopP99: loop.percentile(99) / 1e6,
    shed: (ha?.schedulerStats.shed ?? 0) - shedBefore,
    queuedPeak,
    available,
    storeWrites,
    load1: loadavg().at(0) ?? Number.NaN,
    runQueuePct: sched0 && sched1 ? ((sched1.waitNs - sched0.waitNs) / 1e6 / wall) * 100 : Number.NaN,
    profileTop,
    profileMs,
  };
  stopFloor?.();
  await ha?.stop();
  return result;
}

function runChild(s: Scenario): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--scenario', JSON.stringify(s)], {
      execArgv: [
        ...process.execArgv,
        '--expose-gc',
        ...(s.resources > 200_000 ? ['--max-old-space-size=8192'] : []),
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

const achievedShare = (r: Result) => r.checks / (r.windowMs / 1000) / (r.resources / (INTERVAL_MS / 1000));
const cpuPerCheck = (r: Result) => ((r.cpuPct / 100) * (r.windowMs / 1000) * 1e6) / Math.max(1, r.checks);

function meetsGoal(r: Result): boolean {
  return (
    r.p99 < GOAL.p99Ms &&
    r.cpuPct <= GOAL.cpuPct &&
    r.maxRssMb < GOAL.rssMb &&
    achievedShare(r) >= GOAL.runShare &&
    r.shed === 0 &&
    r.storeWrites === 0
  );
}

/** `value` and its ratio to the floor's, e.g. `12.3 % (2.7×)`. */
function withRatio(text: string, value: number, floor: number | undefined): string {
  if (floor === undefined || !(floor > 0)) return text;
  return `${text} (${fmt(value / floor, 1)}×)`;
}

function printTable(results: readonly Result[]): void {
  const header = [
    'run',
    'resources',
    'limit',
    'due/s',
    'run/due',
    'p50 late',
    'p99 late',
    'max late',
    `> ${GOAL.p99Ms} ms`,
    'CPU % core',
    'CPU µs/check',
    'GC ms/s',
    'GC max',
    'heap',
    'RSS end',
    'peak RSS',
    'loop p99',
    'CPU wait',
    'writes',
    'goal',
  ];
  const floorOf = (n: number) => results.find((r) => r.kind === 'floor' && r.resources === n);
  const rows = results.map((r) => {
    const f = r.kind === 'engine' ? floorOf(r.resources) : undefined;
    const gcPerS = r.gcMs / (r.windowMs / 1000);
    return [
      r.kind,
      fmt(r.resources),
      r.kind === 'floor' ? '-' : String(r.health),
      fmt(r.resources / (INTERVAL_MS / 1000)),
      `${fmt(achievedShare(r) * 100, 2)} %`,
      withRatio(`${fmt(r.p50)} ms`, Math.max(1, r.p50), f && Math.max(1, f.p50)),
      withRatio(`${fmt(r.p99)} ms`, Math.max(1, r.p99), f && Math.max(1, f.p99)),
      `${fmt(r.max)} ms`,
      `${fmt(r.lateShare * 100, 2)} %`,
      withRatio(`${fmt(r.cpuPct, 1)} %`, r.cpuPct, f?.cpuPct),
      withRatio(fmt(cpuPerCheck(r), 1), cpuPerCheck(r), f && cpuPerCheck(f)),
      withRatio(fmt(gcPerS, 1), gcPerS, f && f.gcMs / (f.windowMs / 1000)),
      `${fmt(r.gcMaxMs, 1)} ms`,
      withRatio(`${fmt(r.heapStartMb)} MB`, r.heapStartMb, f?.heapStartMb),
      withRatio(`${fmt(r.rssMb)} MB`, r.rssMb, f?.rssMb),
      withRatio(`${fmt(r.maxRssMb)} MB`, r.maxRssMb, f?.maxRssMb),
      `${fmt(r.loopP99, 1)} ms`,
      Number.isNaN(r.runQueuePct) ? 'n/a' : `${fmt(r.runQueuePct, 1)} %`,
      r.kind === 'floor' ? '-' : fmt(r.storeWrites),
      r.kind === 'floor' ? '-' : meetsGoal(r) ? 'met' : 'MISSED',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padStart(widths[i] ?? 0)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

function printProfile(r: Result): void {
  if (!r.profileTop) return;
  console.log(
    `\nCPU profile, ${r.kind} ${fmt(r.resources)} resources — a separate ${fmt((r.profileMs ?? 0) / 1000, 1)} s ` +
      'window after the measured one (the profiler costs CPU); top 10 self time, % of all samples (% of busy):',
  );
  for (const t of r.profileTop)
    console.log(
      `  ${fmt(t.pct, 1).padStart(5)} %  ${t.busyPct ? `(${fmt(t.busyPct, 1)} %)`.padStart(9) : ''.padStart(9)}  ${t.fn}`,
    );
}

function printStretch(results: readonly Result[]): void {
  const r = results.find((x) => x.kind === 'engine' && x.resources === STRETCH);
  if (!r) return;
  const perResource = ((r.heapStartMb * 2 ** 20) / r.resources / 1024).toFixed(1);
  console.log(
    `\nstretch, ${fmt(STRETCH)} resources: heap after start-up ${fmt(r.heapStartMb)} MB (${perResource} KB per resource), ` +
      `peak RSS ${fmt(r.maxRssMb)} MB, p99 lateness ${fmt(r.p99)} ms, ${fmt(r.cpuPct, 1)} % of a core, ` +
      `${fmt(achievedShare(r) * 100, 2)} % of due checks run, ` +
      (r.convergedMs < 0
        ? 'NOT all AVAILABLE within the cap'
        : `all AVAILABLE after ${fmt(r.convergedMs / 1000, 1)} s`),
  );
}

async function main(): Promise<void> {
  const list = scenarios();
  const windowS = envNumber('BENCH_SECONDS', 40);
  const flags = process.env.BENCH_NODE_FLAGS ? `, node flags ${process.env.BENCH_NODE_FLAGS}` : ', default node flags';
  console.log(
    `hafence scheduler bench — node ${process.version}${flags}, health interval ${INTERVAL_MS / 1000} s, provider latency ${LATENCY_MS} ms, ` +
      `clusters of ${fmt(HOSTS_PER_CLUSTER)} hosts, warm-up ${envNumber('BENCH_WARMUP_SECONDS', 20)} s, window ${windowS} s per scenario`,
  );
  console.log(
    `goal: ${fmt(100_000)} resources, ≥ ${GOAL.runShare * 100} % of due checks run, p99 lateness < ${GOAL.p99Ms} ms, ` +
      `≤ ${GOAL.cpuPct} % of one core, peak RSS < ${fmt(GOAL.rssMb)} MB, nothing shed, no store write by a passing check`,
  );
  console.log('floor: bare Node timers + a trivial async check (a 1 ms timer) per resource, same N, own process\n');
  const results: Result[] = [];
  for (const s of list) {
    console.log(
      `running ${s.kind} ${fmt(s.resources)} resources${s.kind === 'engine' ? `, health concurrency ${s.health}` : ''} …`,
    );
    const r = await runChild(s);
    const converged =
      r.convergedMs < 0 ? 'NOT all AVAILABLE within the cap' : `all AVAILABLE after ${fmt(r.convergedMs / 1000, 1)} s`;
    if (r.kind === 'engine')
      console.log(
        `  setup ${fmt(r.setupMs / 1000, 1)} s, ${converged}, limits ${JSON.stringify(r.limits)}, maxQueued ${fmt(r.maxQueued)}, ` +
          `queue peak ${fmt(r.queuedPeak)}, AVAILABLE ${fmt(r.available)}/${fmt(r.resources)}, ` +
          `heap after start-up ${fmt(r.heapStartMb)} MB (${fmt((r.heapStartMb * 2 ** 20) / r.resources / 1024, 2)} KB per resource), ` +
          `GC ${fmt(r.gcCount)} runs / ${fmt(r.gcMs)} ms in the window, load average ${fmt(r.load1, 2)} on ${cpus().length} cores\n` +
          `  lateness = timer (fired − due, p99 ${fmt(r.timerP99)} ms) + wait for a health slot (started − fired, ` +
          `p99 ${fmt(r.slotWaitP99)} ms, max ${fmt(r.slotWaitMax)} ms)`,
      );
    console.log(
      `  CPU by thread: main ${fmt(r.mainThreadPct, 1)} %, the others (GC helpers, libuv) ${fmt(r.otherThreadsPct, 1)} % of a core`,
    );
    results.push(r);
  }
  console.log('');
  printTable(results);
  for (const r of results) printProfile(r);
  printStretch(results);
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
