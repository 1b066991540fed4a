// Benchmark: failure-to-`workloads.released` time of a crashed host, in virtual time,
// under the default configuration and under the fast-but-safe one, plus the engine's
// own overhead in real time. Virtual waits cost no wall time, so the wall time of a run
// is the engine's (and the simulation's) own work: wall time minus configured waits.
import 'reflect-metadata';
import { parseScenario, ScenarioRun, type ScenarioOptions } from '@hafence/sim';

/**
 * The fast-but-safe configuration: every interval halved, none of the safety rules
 * loosened — two "no activity" results are still needed, the activity window is still
 * 2 × the heartbeat interval, an error is never "no activity", OFF is still verified
 * by a status read, and the startup grace, quiet period and fence budget stay on.
 */
export const FAST_SAFE: Pick<ScenarioOptions, 'config' | 'kvm'> = {
  config: {
    defaults: {
      healthCheckInterval: '5s',
      healthCheckTimeout: '5s',
      activityCheckInterval: '5s',
      quietPeriod: '60s',
    },
  },
  kvm: { heartbeatInterval: '5s', activityWindow: '10s' },
};

const CRASH_AT = 10 * 60_000;
const RUNS = 24;

interface Sample {
  /** Failure → `workloads.released`, virtual ms (the configured waits). */
  readonly virtualMs: number;
  /** Wall time of the same stretch: with virtual waits free, this is the engine's own work. */
  readonly overheadMs: number;
  /** Wall time of the whole 30-minute run. */
  readonly wallMs: number;
  readonly events: number;
}

async function sample(seed: number, host: string, extra: Pick<ScenarioOptions, 'config' | 'kvm'>): Promise<Sample> {
  const scenario = parseScenario({
    name: 'bench',
    hosts: 6,
    seed,
    ...extra,
    steps: [{ at: CRASH_AT, do: 'crash', host }],
    run: CRASH_AT + 20 * 60_000,
  });
  const started = process.hrtime.bigint();
  const run = await ScenarioRun.start(scenario, { quiet: false });
  await run.advanceTo(CRASH_AT);
  const crashed = process.hrtime.bigint();
  const released = () => run.lines.find((l) => l.type === 'workloads.released' && l.host === host);
  while (!released() && !run.done) await run.advanceTo(run.now + 1000);
  const overheadMs = Number(process.hrtime.bigint() - crashed) / 1e6;
  await run.advanceTo(scenario.run);
  await run.close();
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const release = released();
  if (!release) throw new Error(`seed ${seed}: ${host} was never released`);
  return { virtualMs: release.t - CRASH_AT, overheadMs, wallMs, events: run.lines.length };
}

function stats(values: number[]): string {
  const v = [...values].sort((a, b) => a - b);
  const pct = (p: number) => v[Math.min(v.length - 1, Math.floor(p * v.length))] ?? Number.NaN;
  return `min ${pct(0).toFixed(0)}  median ${pct(0.5).toFixed(0)}  p90 ${pct(0.9).toFixed(0)}  max ${pct(1).toFixed(0)}`;
}

async function bench(label: string, extra: Pick<ScenarioOptions, 'config' | 'kvm'>): Promise<void> {
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await sample(1000 + i, `h${1 + (i % 6)}`, extra));
  const perEvent = samples.reduce((s, x) => s + x.wallMs, 0) / samples.reduce((s, x) => s + x.events, 0);
  console.log(`\n${label} (${RUNS} runs, 6 hosts, crash at 10 min, 30 min of virtual time each)`);
  console.log(`  failure → workloads.released, virtual s: ${stats(samples.map((s) => s.virtualMs / 1000))}`);
  console.log(
    `  engine overhead on that path, real ms:   ${stats(samples.map((s) => s.overheadMs))}  (wall time minus configured waits, which cost none)`,
  );
  console.log(`  whole 30-minute run, real ms:            ${stats(samples.map((s) => s.wallMs))}`);
  console.log(
    `  engine overhead per logged event:        ${(perEvent * 1000).toFixed(0)} µs  (virtual/real speed-up ≈ ${Math.round((30 * 60_000) / (samples.reduce((s, x) => s + x.wallMs, 0) / RUNS))}×)`,
  );
}

await bench('default configuration (docs/behaviour.md#defaults)', {});
await bench('fast-but-safe configuration (5 s health/activity/heartbeat, 10 s window, 60 s quiet period)', FAST_SAFE);
