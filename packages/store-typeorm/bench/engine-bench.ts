/**
 * `npm run bench` (second part) — the engine on the SQLite store (issue: "the 100,000-resource
 * scheduler bench with the SQLite store; a routine passing health check must not write").
 *
 * Builds the real HaService on the system clock with a FakeProvider (1 ms answers) and a
 * SQLite store in a temporary folder; BENCH_ENGINE_RESOURCES hosts (default 100,000) in
 * clusters of 1,000, health every 10 s. Reports the start-up (every transition persisted),
 * then over BENCH_ENGINE_SECONDS (default 30) of steady state: checks run vs due, p99
 * lateness, CPU % of one core, peak RSS, and the store writes — which must be zero.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HaService, systemClock, type StateStore } from '@hafence/core';
import { FakeProvider } from '@hafence/testkit';
import { createSqliteStore } from '@hafence/store-typeorm';

const INTERVAL_MS = 10_000;
const HOSTS_PER_CLUSTER = 1_000;
const WRITES = new Set([
  'saveResource',
  'saveResourceWithEvents',
  'markDelivered',
  'deleteResource',
  'savePartition',
  'appendFenceLog',
  'takeStop',
  'putIntent',
  'clearIntent',
  'recordArm',
  'appendEvent',
]);

function envNumber(name: string, fallback: number): number {
  const n = Number(process.env[name] ?? Number.NaN);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** The store with every write counted. */
function counted(store: StateStore): { store: StateStore; writes: () => number } {
  let writes = 0;
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (WRITES.has(String(prop))) writes++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, writes: () => writes };
}

async function main(): Promise<void> {
  const n = envNumber('BENCH_ENGINE_RESOURCES', 100_000);
  const windowMs = envNumber('BENCH_ENGINE_SECONDS', 30) * 1000;
  const dir = mkdtempSync(join(tmpdir(), 'hafence-engine-bench-'));
  // As `hafence serve` opens it: a group commit stays open until the next turn of the loop.
  const sqlite = await createSqliteStore({ path: join(dir, 'bench.sqlite'), groupCommit: 'turn' });
  const { store, writes } = counted(sqlite);
  const late: number[] = [];
  let measuring = false;
  const ha = new HaService({
    providers: [new FakeProvider({ latencyMs: 1, recordCalls: false })],
    clock: systemClock,
    store,
    config: { startupGrace: 0, defaults: { healthCheckInterval: INTERVAL_MS } },
    healthProbe: (due, started) => {
      if (measuring) late.push(started - due);
    },
  });
  const t0 = performance.now();
  await ha.start();
  await ha.addPartition({ id: 'z1', kind: 'zone', enabled: true, haEnabled: true });
  await ha.addPartition({ id: 'p1', kind: 'pod', parent: 'z1', enabled: true, haEnabled: true });
  for (let c = 0; c * HOSTS_PER_CLUSTER < n; c++)
    await ha.addPartition({ id: `c${c}`, kind: 'cluster', parent: 'p1', enabled: true, haEnabled: true });
  // One addResources per cluster, as a control plane adds its inventory (one at a time, each fresh record took a
  // commit of its own: 100,000 fsyncs before the first check).
  for (let c = 0; c * HOSTS_PER_CLUSTER < n; c++) {
    const size = Math.min(HOSTS_PER_CLUSTER, n - c * HOSTS_PER_CLUSTER);
    await ha.addResources(
      [...Array(size).keys()].map((i) => ({
        ref: { type: 'host', id: `h${c * HOSTS_PER_CLUSTER + i}` },
        partition: `c${c}`,
      })),
    );
  }
  let available = 0;
  while (performance.now() - t0 < 600_000) {
    await sleep(1000);
    available = ha.list().filter((r) => r.state === 'AVAILABLE').length;
    if (available === n) break;
  }
  const convergedS = (performance.now() - t0) / 1000;
  const startupWrites = writes();
  await sleep(INTERVAL_MS); // every host's first check after AVAILABLE has run
  const w0 = writes();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  measuring = true;
  await sleep(windowMs);
  measuring = false;
  const wall = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const steadyWrites = writes() - w0;
  late.sort((a, b) => a - b);
  const p99 = late[Math.floor(late.length * 0.99)] ?? Number.NaN;
  const due = (n * wall) / INTERVAL_MS;
  await ha.stop();
  rmSync(dir, { recursive: true, force: true });
  const rows = [
    ['resources', String(n)],
    ['start-up to all AVAILABLE (s)', `${convergedS.toFixed(1)}${available === n ? '' : ` (only ${available})`}`],
    ['writes during start-up', String(startupWrites)],
    ['checks run / due in window', `${late.length} / ${Math.round(due)} (${((late.length / due) * 100).toFixed(2)} %)`],
    ['p99 lateness (ms)', p99.toFixed(1)],
    ['CPU (% of one core)', (((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(1)],
    ['peak RSS (MB)', (process.resourceUsage().maxRSS / 1024).toFixed(0)],
    ['store writes by passing checks in window (goal 0)', String(steadyWrites)],
  ];
  console.log('\nengine on the SQLite store');
  for (const [k = '', v = ''] of rows) console.log(`  ${k.padEnd(52)} ${v}`);
  if (steadyWrites !== 0) process.exitCode = 1;
}

await main();
