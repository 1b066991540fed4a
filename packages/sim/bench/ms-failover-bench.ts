// Benchmark: failover between management servers at the default settings (leaseTtl 30 s,
// leaseMargin 10 s, renewInterval 5 s, actBound = the largest powerOpTimeout), in virtual
// time with the scenario runner: the owner of c1 is killed (no release) right after the
// off of a recovery has landed, and we measure kill → c1 re-owned (`partition.acquired`
// by the other server) → the new owner's first action (its power command for the host) →
// the host released and AVAILABLE again. An idle owner's kill is measured too (re-owned only).
import 'reflect-metadata';
import { parseScenario, ScenarioRun, type ScenarioLine } from '@hafence/sim';

const HOST_CRASH_AT = 6 * 60_000;
const IDLE_KILL_AT = 10 * 60_000;
const RUN = 30 * 60_000;
const RUNS = 12;

async function run(seed: number, steps: readonly Record<string, unknown>[], until?: (l: ScenarioLine) => boolean) {
  const scenario = parseScenario({ name: 'ms-failover-bench', hosts: 6, managementServers: 2, seed, steps, run: RUN });
  const r = await ScenarioRun.start(scenario, { quiet: true, steps: false, notes: false });
  while (!r.done && !(until && r.lines.some(until))) await r.advanceTo(r.now + 1000);
  await r.close();
  return r.lines;
}

interface Sample {
  readonly reowned: number;
  readonly firstAction?: number;
  readonly released?: number;
  readonly available?: number;
}

/** The owner of c1 is killed 1 ms after the `power.action off` of h3's recovery is logged. */
async function midRecovery(seed: number): Promise<Sample> {
  const crash = { at: HOST_CRASH_AT, do: 'crash', host: 'h3' };
  const isOff = (l: ScenarioLine) =>
    l.type === 'power.action' && l.host === 'h3' && l.action === 'off' && l.by === 'ha';
  const off = (await run(seed, [crash], isOff)).find(isOff);
  if (!off) throw new Error(`seed ${seed}: no off for h3`);
  const owner = String(off.ms);
  const killAt = off.t + 1;
  const lines = await run(seed, [crash, { at: killAt, do: 'ms-crash', ms: owner }]);
  const after = (p: (l: ScenarioLine) => boolean) => lines.find((l) => l.t >= killAt && l.ms !== owner && p(l));
  const acquired = after((l) => l.type === 'partition.acquired' && l.partition === 'c1');
  if (!acquired) throw new Error(`seed ${seed}: c1 never re-owned`);
  const action = after((l) => l.type === 'power.action' && l.host === 'h3' && l.by === 'ha');
  const released = lines.filter((l) => l.type === 'workloads.released' && l.host === 'h3');
  if (released.length !== 1) throw new Error(`seed ${seed}: h3 released ${released.length} times`);
  if (released[0]!.ms === owner) throw new Error(`seed ${seed}: released before the kill`);
  if (action?.action !== 'on') throw new Error(`seed ${seed}: the heir's first action was ${String(action?.action)}`);
  const available = after((l) => l.type === 'resource.transition' && l.resource === 'h3' && l.to === 'AVAILABLE');
  return {
    reowned: acquired.t - killAt,
    firstAction: action && action.t - killAt,
    released: released[0]!.t - killAt,
    available: available && available.t - killAt,
  };
}

/** The owner of c1 is killed while nothing is in flight. */
async function idle(seed: number): Promise<Sample> {
  const first = await run(seed, [], (l) => l.type === 'partition.acquired');
  const owner = String(first.find((l) => l.type === 'partition.acquired')!.ms);
  const lines = await run(seed, [{ at: IDLE_KILL_AT, do: 'ms-crash', ms: owner }]);
  const acquired = lines.find((l) => l.t >= IDLE_KILL_AT && l.ms !== owner && l.type === 'partition.acquired');
  if (!acquired) throw new Error(`seed ${seed}: c1 never re-owned`);
  return { reowned: acquired.t - IDLE_KILL_AT };
}

function stats(values: readonly (number | undefined)[]): string {
  const v = values.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  if (v.length === 0) return '-';
  const pct = (p: number) => (v[Math.min(v.length - 1, Math.floor(p * v.length))]! / 1000).toFixed(1);
  const missing = values.length - v.length;
  return `min ${pct(0)}  median ${pct(0.5)}  p90 ${pct(0.9)}  max ${pct(1)}${missing ? `  (${missing} run(s) without)` : ''}`;
}

const started = process.hrtime.bigint();
const mid: Sample[] = [];
const quiet: Sample[] = [];
for (let i = 0; i < RUNS; i++) {
  mid.push(await midRecovery(2000 + i));
  quiet.push(await idle(2000 + i));
}
const bound = (30_000 + 20_000 + 5_000) / 1000;
console.log(
  `\nfailover between 2 management servers, default settings (leaseTtl 30 s, margin 10 s, renew 5 s, ` +
    `actBound = largest powerOpTimeout = 20 s: ` +
    `bound leaseTtl + actBound + renewInterval = ${bound} s); ${RUNS} seeds, 6 hosts, virtual s`,
);
console.log(`  owner killed right after its off landed (h3 crashed at 6 min):`);
console.log(`    kill → c1 re-owned (partition.acquired):      ${stats(mid.map((s) => s.reowned))}`);
console.log(`    kill → first action by the new owner (on):    ${stats(mid.map((s) => s.firstAction))}`);
console.log(`    kill → workloads.released (once, by the heir): ${stats(mid.map((s) => s.released))}`);
console.log(`    kill → h3 AVAILABLE again:                    ${stats(mid.map((s) => s.available))}`);
console.log(`  idle owner killed at 10 min:`);
console.log(`    kill → c1 re-owned (partition.acquired):      ${stats(quiet.map((s) => s.reowned))}`);
console.log(`  wall time of the bench: ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s`);
