import type { HaEvent, StateStore } from '@hafence/core';
import { createSimKvmEnv, type SimKvmEnv } from '../kvm/create-sim-kvm-env.js';
import type { SimNote } from '../kvm/sim-kvm-cluster.js';
import type { TestClock } from '@hafence/testkit';
import { applyStep } from './apply-step.js';
import { UnsupportedScenarioError } from './scenario-error.js';
import type { Scenario, ScenarioStep } from './scenario-schema.js';

/** One line of a scenario's event log: `t` is virtual ms since the scenario started. */
export interface ScenarioLine {
  readonly t: number;
  readonly type: string;
  readonly [field: string]: unknown;
}

/** Options of {@link ScenarioRun} and {@link runScenario}. */
export interface ScenarioRunOptions {
  /** Overrides the scenario's seed. */
  readonly seed?: number;
  /** Log each fault as a `scenario.step` line (default true). */
  readonly steps?: boolean;
  /** Log what the simulation did by itself as `sim.*` lines (default true). */
  readonly notes?: boolean;
  /** Leave out routine successful status reads of the sync daemon (default true). */
  readonly quiet?: boolean;
  /**
   * The clock to run on (default a fresh {@link TestClock} with timers on time). A jittered
   * clock checks the invariants of docs/behaviour.md under early and late timers; its log differs from the golden.
   */
  readonly clock?: TestClock;
  /** Where the engine keeps its state (default in memory); closed when the run closes. */
  readonly store?: StateStore;
}

/**
 * A scenario being run, step by step, in virtual time: {@link ScenarioRun.advanceTo}
 * applies the faults due on the way and collects the log. The CLI uses it to draw a live
 * view; {@link runScenario} runs it to the end.
 */
export class ScenarioRun {
  /** The log so far. */
  readonly lines: ScenarioLine[] = [];
  private drained = 0;
  private next = 0;
  private closed = false;

  private constructor(
    readonly scenario: Scenario,
    readonly env: SimKvmEnv,
    private readonly options: ScenarioRunOptions,
  ) {}

  /** Builds the simulated cluster of `scenario` and starts its engine at virtual time 0. */
  static async start(scenario: Scenario, options: ScenarioRunOptions = {}): Promise<ScenarioRun> {
    // One engine owns everything: server faults mean nothing there. Refused before anything runs, not halfway.
    const msStep = scenario.steps.find((s) => s.do.startsWith('ms-'));
    if (msStep && scenario.managementServers === 1)
      throw new UnsupportedScenarioError(`the '${msStep.do}' fault with one management server`);
    const k = scenario.kvm;
    const env = await createSimKvmEnv({
      hosts: scenario.hosts,
      vmsPerHost: scenario.vmsPerHost,
      seed: options.seed ?? scenario.seed,
      config: scenario.config,
      clock: options.clock,
      store: options.store,
      ...(scenario.managementServers > 1 ? { managementServers: scenario.managementServers } : {}),
      ...(scenario.clusters > 1 ? { clusters: scenario.clusters } : {}),
      kvm: {
        bootTimeMs: k.bootTime,
        heartbeatIntervalMs: k.heartbeatInterval,
        activityWindowMs: k.activityWindow,
        selfFenceAfterMs: k.selfFenceAfter,
        leaseMarginMs: k.leaseMargin,
        replyTimeoutMs: k.replyTimeout,
        watchdogAction: k.watchdog,
      },
    });
    const run = new ScenarioRun(scenario, env, options);
    run.drain();
    return run;
  }

  /** Virtual ms since the start. */
  get now(): number {
    return this.env.clock.now() - this.env.startedAt;
  }

  /** The scenario's whole virtual duration has passed. */
  get done(): boolean {
    return this.now >= this.scenario.run;
  }

  /** Runs to virtual time `t` (ms since the start, capped at the scenario's `run`), applying due faults. */
  async advanceTo(t: number): Promise<void> {
    const target = Math.min(t, this.scenario.run);
    const steps = this.scenario.steps;
    for (let step = steps[this.next]; step !== undefined && step.at <= target; step = steps[this.next]) {
      this.next += 1;
      await this.env.clock.advanceTo(this.env.startedAt + step.at);
      this.drain();
      if (this.options.steps !== false) this.lines.push(stepLine(step));
      await applyStep(this.env, step);
    }
    await this.env.clock.advanceTo(this.env.startedAt + target);
    this.drain();
  }

  /** Stops the engine and the simulation; the log is complete. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.env.close();
    this.drain();
  }

  private drain(): void {
    const timeline = this.env.timeline;
    for (const e of timeline.slice(this.drained)) {
      this.drained += 1;
      if (this.keep(e)) this.lines.push({ ...e, t: e.t - this.env.startedAt });
    }
  }

  private keep(e: HaEvent | SimNote): boolean {
    if (e.type.startsWith('sim.')) return this.options.notes !== false;
    const routine = e.type === 'power.action' && e.action === 'status' && e.by === 'sync' && e.ok;
    return !(routine && this.options.quiet !== false);
  }
}

/**
 * Runs a scenario to its end in virtual time and returns its event log — the same
 * scenario and seed give the same log, byte for byte (docs/behaviour.md#scenarios).
 *
 * @example
 * const lines = await runScenario(loadScenarioFile('test/scenarios/host-crash.yaml'));
 * process.stdout.write(toJsonLines(lines));
 */
export async function runScenario(scenario: Scenario, options: ScenarioRunOptions = {}): Promise<ScenarioLine[]> {
  const run = await ScenarioRun.start(scenario, options);
  try {
    await run.advanceTo(scenario.run);
  } finally {
    await run.close();
  }
  return run.lines;
}

/** The log as JSON lines (one event per line, trailing newline). */
export function toJsonLines(lines: readonly ScenarioLine[]): string {
  return lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length > 0 ? '\n' : '');
}

function stepLine(step: ScenarioStep): ScenarioLine {
  const { at, ...rest } = step;
  return { t: at, type: 'scenario.step', ...rest };
}
