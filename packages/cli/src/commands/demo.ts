import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreOpenError, createSqliteStore } from '@hafence/store-typeorm';
import { ConfigError } from '@hafence/core';
import { EXIT } from '../exit-codes.js';
import {
  loadScenarioFile,
  parseScenario,
  ScenarioError,
  ScenarioRun,
  UnsupportedScenarioError,
  type Scenario,
  type ScenarioLine,
} from '@hafence/sim';

/** Options of `hafence demo`. */
export interface DemoOptions {
  /** Print the event log as JSON lines (the same format as the scenario goldens). */
  readonly json?: boolean;
  /** Overrides the scenario's seed. */
  readonly seed?: number;
  /** A scenario file (docs/behaviour.md#scenarios); the built-in demo when absent. */
  readonly scenario?: string;
  /** Draw the live table even when stdout is not a terminal (tests). */
  readonly live?: boolean;
  /** Real time the live view spends on the whole run (default 20 s). */
  readonly liveBudgetMs?: number;
  /**
   * The SQLite file the engine keeps its state in, as `hafence serve` does (default a fresh
   * file in the system's temporary folder). An existing file is refused: a demo starts empty.
   */
  readonly store?: string;
}

/** Real time the live view spends on a run, in ms (it must finish in under a minute). */
const LIVE_BUDGET_MS = 20_000;
const FRAMES = 250;

/**
 * The default demo: 6 hosts in cluster c1. h3 crashes and is recovered; the shared
 * storage fails for every host (nothing is fenced); h1 loses only its agent (DEGRADED);
 * h5 crashes for good and is fenced. h5's crash comes 70 minutes in, after h3's stop
 * command has left the fence budget's 60-minute window (3 stops per partition per
 * hour: h5 needs all three), so the default configuration shows both outcomes.
 */
export const DEFAULT_DEMO = {
  name: 'default-demo',
  description: 'a host recovered, a shared storage outage with nothing fenced, an agent loss, a host fenced',
  hosts: 6,
  vmsPerHost: 2,
  seed: 42,
  steps: [
    { at: '6m', do: 'crash', host: 'h3' },
    { at: '20m', do: 'storage-down' },
    { at: '32m', do: 'storage-up' },
    { at: '40m', do: 'agent-down', host: 'h1' },
    { at: '56m', do: 'agent-up', host: 'h1' },
    { at: '70m', do: 'crash', host: 'h5', stuck: true },
  ],
  run: '95m',
} as const;

/**
 * `hafence demo`: runs a scenario on a simulated KVM cluster in virtual time with the
 * real engine. On a terminal it draws a live table of hosts and a timeline; otherwise
 * it prints the timeline; with `--json` it prints the event log as JSON lines.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  let scenario: Scenario;
  try {
    scenario = options.scenario ? loadScenarioFile(options.scenario) : parseScenario(DEFAULT_DEMO, 'default demo');
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    process.stderr.write(`hafence demo: ${err.message}\n`);
    return EXIT.usage;
  }
  let run: ScenarioRun;
  const storePath = options.store ?? join(mkdtempSync(join(tmpdir(), 'hafence-demo-')), 'demo.state.sqlite');
  if (existsSync(storePath)) {
    process.stderr.write(`hafence demo: --store ${storePath} exists; a demo starts from an empty store\n`);
    return EXIT.usage;
  }
  let store: Awaited<ReturnType<typeof createSqliteStore>> | undefined;
  try {
    store = await createSqliteStore({ path: storePath });
    run = await ScenarioRun.start(scenario, { seed: options.seed, store });
  } catch (err) {
    await store?.close().catch(() => undefined);
    if (err instanceof StoreOpenError) {
      process.stderr.write(`hafence demo: ${err.message}\n`);
      return EXIT.unreachable;
    }
    // A ConfigError here means the engine refused what the loader let through: still the file's fault.
    if (!(err instanceof UnsupportedScenarioError || err instanceof ConfigError)) throw err;
    process.stderr.write(`hafence demo: ${err.message}\n`);
    return EXIT.usage;
  }
  const live = !options.json && (options.live ?? process.stdout.isTTY === true);
  const out = (text: string) => process.stdout.write(text);
  try {
    if (live) await playLive(run, out, options.liveBudgetMs ?? LIVE_BUDGET_MS);
    else await run.advanceTo(scenario.run);
  } finally {
    await run.close();
  }
  if (options.json) out(run.lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  else if (!live)
    out(
      `hafence demo: ${scenario.name} — ${scenario.hosts} simulated hosts in cluster c1, virtual time\n\n${run.lines.map(format).filter(Boolean).join('\n')}\n`,
    );
  if (live) out(`\ndone: ${summary(run)}\n`);
  else if (!options.json) out(`\nfinal states:\n${table(run)}\n\n${summary(run)}\n`);
  if (!options.json) out(`state kept in SQLite: ${storePath}\n`);
  else if (options.store === undefined) rmSync(dirname(storePath), { recursive: true, force: true });
  return 0;
}

async function playLive(run: ScenarioRun, out: (text: string) => void, budgetMs: number): Promise<void> {
  const step = Math.max(1000, Math.ceil(run.scenario.run / FRAMES));
  const pause = Math.floor(budgetMs / Math.ceil(run.scenario.run / step));
  while (!run.done) {
    await run.advanceTo(run.now + step);
    out(`\x1b[H\x1b[J${frame(run)}`);
    await sleep(pause);
  }
}

function frame(run: ScenarioRun): string {
  const part = run.env.service.partitionState('c1');
  const timeline = run.lines.map(format).filter(Boolean).slice(-16);
  return [
    `hafence demo: ${run.scenario.name} — virtual time ${stamp(run.now)} of ${stamp(run.scenario.run)} — partition c1 ${part}`,
    '',
    table(run),
    '',
    'timeline:',
    ...timeline,
    '',
  ].join('\n');
}

function table(run: ScenarioRun): string {
  const rows = [`  ${'HOST'.padEnd(5)} ${'HA STATE'.padEnd(13)} ${'POWER'.padEnd(8)} LAST EVENT`];
  for (const r of run.env.service.list()) {
    const id = r.ref.id;
    const last = [...run.lines]
      .reverse()
      .find((l) => (l.host === id || l.resource === id) && describe(l) && l.type !== 'scenario.step');
    const note = last ? `${stamp(last.t).trim()} ${describe(last)}` : '';
    rows.push(
      `  ${id.padEnd(5)} ${r.state.padEnd(13)} ${run.env.power.state(id).padEnd(8)} ${note}${r.released ? '  (workloads released)' : ''}`,
    );
  }
  return rows.join('\n');
}

function summary(run: ScenarioRun): string {
  const released = run.lines
    .filter((l) => l.type === 'workloads.released')
    .map((l) => `${String(l.resource)} (${String(l.proof)})`);
  const stops = run.lines.filter(
    (l) => l.type === 'power.action' && l.by === 'ha' && ['off', 'soft', 'cycle', 'reset'].includes(String(l.action)),
  ).length;
  const would = run.lines.filter((l) => l.type === 'would.power.action').length;
  const observed = would > 0 ? `, ${would} command(s) withheld (observe-only)` : '';
  return `${stamp(run.scenario.run).trim()} of virtual time, ${stops} stop command(s)${observed}, workloads released: ${released.join(', ') || 'none'}`;
}

function stamp(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(3, ' ')}m${String(s % 60).padStart(2, '0')}s`;
}

function format(e: ScenarioLine): string {
  const text = describe(e);
  if (!text) return '';
  return e.type === 'scenario.step'
    ? `${stamp(e.t)}  >>> ${text}`
    : `${stamp(e.t)}  ${String(e.host ?? e.resource ?? e.partition ?? '').padEnd(4)} ${text}`;
}

function describe(e: ScenarioLine): string {
  switch (e.type) {
    case 'scenario.step':
      return `${String(e.do)} ${String(e.host ?? (e.hosts as string[] | undefined)?.join(',') ?? e.cluster ?? 'all hosts')}${e.stuck ? ' (stuck)' : ''}${e.delay ? ` (${String(e.delay)} ms)` : ''}`;
    case 'resource.transition':
      return `${String(e.from)} → ${String(e.to)}  (${String(e.reason)})`;
    case 'partition.transition':
      return `partition ${String(e.from)} → ${String(e.to)}  (${String(e.reason)})`;
    case 'power.transition':
      return `power ${String(e.from)} → ${String(e.to)}`;
    case 'power.action':
      return `power ${String(e.action)} by ${String(e.by)}: ${e.ok ? 'ok' : `failed (${String(e.error)})`}`;
    case 'would.power.action':
      return `WOULD power ${String(e.action)} by ${String(e.by)} (observe-only: not sent)`;
    case 'power.read-failing':
      return `power reads failing (${String(e.error)})`;
    case 'power.read-ok':
      return `power read ok again after ${String(e.failures)} failed read(s)`;
    case 'power.auth-failed':
      return 'BMC refused the credentials';
    case 'workloads.released':
      return `*** WORKLOADS RELEASED (proof: ${String(e.proof)}) — its VMs may restart elsewhere`;
    case 'fencing.halted':
      return `fencing halted for ${String(e.scope)}: ${String(e.reason)}`;
    case 'alert':
      return `[${String(e.level)}] ${String(e.message)}`;
    case 'sim.self-fence':
      return '(agent fenced its own host: VMs stopped, watchdog reset)';
    case 'sim.booted':
      return '(booted)';
    default:
      return e.type;
  }
}
