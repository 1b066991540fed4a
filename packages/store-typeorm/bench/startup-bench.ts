/**
 * `npm run bench` (third part) — start-up (issue 13: "100,000 resources from an empty store to all AVAILABLE in
 * < 10 s beyond the checks' own latency, and from a persisted store (restart) likewise").
 *
 * For each store (memory, SQLite), in its own child process: the real HaService on the system clock with a
 * FakeProvider (1 ms answers), zone z1 ⊃ pod p1 ⊃ clusters of 1,000 hosts, health every 10 s, startup grace 0.
 * 1. Empty store: start, add every partition, then every resource (`addResources`, one call per cluster), wait until
 *    every resource is AVAILABLE.
 * 2. Restart: stop the service (the store keeps its records; SQLite is closed and opened again), build a new service
 *    over it, add the same inventory, wait until every resource is AVAILABLE and has answered its first check.
 *
 * Printed per phase: the set-up time (start + every add returned), the time to all AVAILABLE and to every first
 * check answered, that time beyond the first checks' spread (each resource's first check is due at a keyed offset in
 * one health interval, so the last one is due ~10 s after the start: nothing can be AVAILABLE-by-check sooner), CPU
 * time (load-independent), partition reassessments (per cluster: max and mean; total), and the store calls made.
 *
 * Environment: `BENCH_STARTUP_RESOURCES` (default 100,000), `BENCH_STARTUP_STORES` (default `memory,sqlite`),
 * `BENCH_STARTUP_MAX_SECONDS` (per phase, default 180).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { HaService, MemoryStateStore, systemClock, type StateStore } from '@hafence/core';
import { FakeProvider } from '@hafence/testkit';
import { createSqliteStore } from '@hafence/store-typeorm';

const INTERVAL_MS = 10_000;
const HOSTS_PER_CLUSTER = 1_000;
const POLL_MS = 250;

type StoreKind = 'memory' | 'sqlite';

/** Figures of one phase (empty start or restart). */
interface Phase {
  readonly phase: 'empty' | 'restart';
  readonly setupMs: number;
  /** Every resource AVAILABLE (-1: not within the cap). */
  readonly availableMs: number;
  /** Every resource AVAILABLE and its first health check answered. */
  readonly checkedMs: number;
  readonly cpuMs: number;
  readonly reassessMax: number;
  readonly reassessMean: number;
  readonly reassessTotal: number;
  readonly clusters: number;
  /** Store calls by method during the phase. */
  readonly calls: Readonly<Record<string, number>>;
  readonly available: number;
}

interface RunResult {
  readonly store: StoreKind;
  readonly resources: number;
  readonly phases: readonly Phase[];
  readonly maxRssMb: number;
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? Number.NaN : Number(raw);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** The store with every call counted by method name. */
function counted(store: StateStore): { store: StateStore; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

/** Starts a service over `store`, adds the inventory and waits for every resource; returns the phase's figures. */
async function phase(name: Phase['phase'], base: StateStore, n: number): Promise<{ ha: HaService; figures: Phase }> {
  const { store, calls } = counted(base);
  const reassessed = new Map<string, number>();
  const ha = new HaService({
    providers: [new FakeProvider({ latencyMs: 1, recordCalls: false })],
    clock: systemClock,
    store,
    config: { startupGrace: 0, defaults: { healthCheckInterval: INTERVAL_MS } },
  });
  ha.observe({ partitionAssessed: (p) => reassessed.set(p, (reassessed.get(p) ?? 0) + 1) });
  let transitioned = 0; // resources that entered AVAILABLE and have not left it, by their transition events
  const watch = ha.events$.subscribe((e) => {
    if (e.type !== 'resource.transition') return;
    if (e.to === 'AVAILABLE') transitioned++;
    if (e.from === 'AVAILABLE') transitioned--;
  });
  const clusters = Math.ceil(n / HOSTS_PER_CLUSTER);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await ha.start();
  await ha.addPartition({ id: 'z1', kind: 'zone', enabled: true, haEnabled: true });
  await ha.addPartition({ id: 'p1', kind: 'pod', parent: 'z1', enabled: true, haEnabled: true });
  for (let c = 0; c < clusters; c++)
    await ha.addPartition({ id: `c${c}`, kind: 'cluster', parent: 'p1', enabled: true, haEnabled: true });
  // One addResources per cluster: the fresh records of a cluster are written together.
  for (let c = 0; c < clusters; c++) {
    const ids = [...Array(Math.min(HOSTS_PER_CLUSTER, n - c * HOSTS_PER_CLUSTER)).keys()];
    await ha.addResources(
      ids.map((i) => ({ ref: { type: 'host', id: `h${c * HOSTS_PER_CLUSTER + i}` }, partition: `c${c}` })),
    );
  }
  const setupMs = performance.now() - t0;
  const cap = t0 + envNumber('BENCH_STARTUP_MAX_SECONDS', 180) * 1000;
  let availableMs = -1;
  let checkedMs = -1;
  let available = 0;
  let pollCpuUs = 0; // the bench's own polling, not counted in the phase's CPU time
  let polls = 0;
  while (performance.now() < cap) {
    const poll0 = process.cpuUsage();
    // Until every resource is AVAILABLE the poll costs nothing per resource: the transitions seen count them (and,
    // every 2 s, the counts, for records that were AVAILABLE already). Only then the list, for the first checks
    // answered. A list of 100,000 statuses every 250 ms took a seventh of the CPU the phase had; the counts, half that.
    available = transitioned;
    if (available < n && polls++ % 8 === 0) {
      available = 0;
      for (const c of ha.resourceCounts().byState) if (c.state === 'AVAILABLE') available += c.count;
    }
    let checked = 0;
    if (available === n) for (const r of ha.list()) if (r.state === 'AVAILABLE' && r.healthy !== undefined) checked++;
    const poll = process.cpuUsage(poll0);
    pollCpuUs += poll.user + poll.system;
    if (availableMs < 0 && available === n) availableMs = performance.now() - t0;
    if (checked === n) {
      checkedMs = performance.now() - t0;
      break;
    }
    await sleep(POLL_MS);
  }
  watch.unsubscribe();
  const cpu = process.cpuUsage(cpu0);
  const perCluster = [...Array(clusters).keys()].map((c) => reassessed.get(`c${c}`) ?? 0);
  const figures: Phase = {
    phase: name,
    setupMs,
    availableMs,
    checkedMs,
    cpuMs: (cpu.user + cpu.system - pollCpuUs) / 1000,
    reassessMax: Math.max(0, ...perCluster),
    reassessMean: perCluster.reduce((a, b) => a + b, 0) / Math.max(1, clusters),
    reassessTotal: [...reassessed.values()].reduce((a, b) => a + b, 0),
    clusters,
    calls: Object.fromEntries([...calls].sort(([a], [b]) => a.localeCompare(b))),
    available,
  };
  return { ha, figures };
}

async function run(kind: StoreKind, n: number): Promise<RunResult> {
  const dir = kind === 'sqlite' ? mkdtempSync(join(tmpdir(), 'hafence-startup-bench-')) : undefined;
  const file = dir && join(dir, 'state.sqlite');
  const memory = new MemoryStateStore();
  const open = async (): Promise<StateStore> =>
    file ? await createSqliteStore({ path: file, groupCommit: 'turn' }) : memory;
  try {
    const first = await phase('empty', await open(), n);
    await first.ha.stop({ closeStore: kind === 'sqlite' });
    global.gc?.();
    const second = await phase('restart', await open(), n);
    await second.ha.stop({ closeStore: kind === 'sqlite' });
    return {
      store: kind,
      resources: n,
      phases: [first.figures, second.figures],
      maxRssMb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

function runChild(kind: StoreKind, n: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--run', kind, String(n)], {
      execArgv: [...process.execArgv, '--max-old-space-size=4096'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: RunResult | undefined;
    child.on('message', (m) => (result = m as RunResult));
    child.on('error', reject);
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`${kind} run exited with ${code}`))));
  });
}

const fmt = (v: number, digits = 0) =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const secs = (ms: number) => (ms < 0 ? 'not within the cap' : `${fmt(ms / 1000, 1)} s`);

function print(r: RunResult): void {
  console.log(`\n${r.store} store, ${fmt(r.resources)} resources (peak RSS ${fmt(r.maxRssMb)} MB)`);
  for (const p of r.phases) {
    const beyond = p.checkedMs < 0 ? 'n/a' : `${fmt(Math.max(0, p.checkedMs - INTERVAL_MS) / 1000, 1)} s`;
    const rows: Array<[string, string]> = [
      ['set-up (start + every add)', secs(p.setupMs)],
      ['to all AVAILABLE', `${secs(p.availableMs)} (${fmt(p.available)} AVAILABLE)`],
      ['to all AVAILABLE and first check answered', secs(p.checkedMs)],
      ['  beyond the first checks’ 10 s spread', beyond],
      ['CPU time (without the bench’s polling)', `${fmt(p.cpuMs / 1000, 1)} s`],
      [
        'reassessments per cluster (max / mean)',
        `${fmt(p.reassessMax)} / ${fmt(p.reassessMean, 1)} (${fmt(p.clusters)} clusters, total ${fmt(p.reassessTotal)})`,
      ],
      [
        'store calls',
        Object.entries(p.calls)
          .map(([k, v]) => `${k} ${fmt(v)}`)
          .join(', '),
      ],
    ];
    console.log(`  ${p.phase === 'empty' ? 'empty store' : 'restart over the persisted store'}`);
    for (const [k, v] of rows) console.log(`    ${k.padEnd(44)} ${v}`);
  }
}

async function main(): Promise<void> {
  const n = envNumber('BENCH_STARTUP_RESOURCES', 100_000);
  const kinds = (process.env.BENCH_STARTUP_STORES ?? 'memory,sqlite').split(',').filter(Boolean) as StoreKind[];
  console.log(
    `hafence start-up bench — node ${process.version}, ${fmt(n)} resources in clusters of ${fmt(HOSTS_PER_CLUSTER)}, ` +
      `health every ${INTERVAL_MS / 1000} s, provider latency 1 ms; goal: all AVAILABLE < 10 s beyond the first checks`,
  );
  for (const kind of kinds) {
    if (kind !== 'memory' && kind !== 'sqlite') throw new Error(`BENCH_STARTUP_STORES: unknown store '${kind}'`);
    print(await runChild(kind, n));
  }
}

const runArg = process.argv.indexOf('--run');
if (runArg >= 0) {
  const kind = process.argv[runArg + 1] as StoreKind;
  const result = await run(kind, Number(process.argv[runArg + 2]));
  if (process.send) process.send(result, () => process.exit(0));
  else print(result);
} else {
  await main();
}
