import { assert, expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TestClock, parseTestClockMode } from '@hafence/testkit';
import { loadScenarioFile, runScenario, toJsonLines, type Scenario, type ScenarioLine } from '@hafence/sim';
import { checkGolden, repoRoot } from './golden.js';

const dir = join(repoRoot(), 'test', 'scenarios');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const STOPS = new Set(['off', 'soft', 'cycle', 'reset']);

/** Checks a scenario's `expect` block against its log. */
function checkExpectations(s: Scenario, lines: readonly ScenarioLine[]): void {
  const x = s.expect;
  if (!x) return;
  const released = lines.filter((l) => l.type === 'workloads.released').map((l) => String(l.resource));
  if (x.released) expect([...released].sort(), 'hosts released (each once)').to.deep.equal([...x.released].sort());
  const stops = lines.filter((l) => l.type === 'power.action' && l.by === 'ha' && STOPS.has(String(l.action))).length;
  if (x.stops !== undefined) expect(stops, 'stop commands sent by the engine').to.equal(x.stops);
  const transitions = lines.filter((l) => l.type === 'resource.transition');
  for (const [host, state] of Object.entries(x.final ?? {})) {
    expect(transitions.filter((l) => l.resource === host).pop()?.to, `final state of ${host}`).to.equal(state);
  }
  for (const [host, states] of Object.entries(x.never ?? {})) {
    const entered = transitions
      .filter((l) => l.resource === host && states.includes(l.to as never))
      .map((l) => `${String(l.to)}@${l.t}`);
    expect(entered, `${host} must never enter ${states.join('/')}`).to.deep.equal([]);
  }
}

/** Checks what must hold under any clock: no unsafe release (ground truth) and the `expect` block. */
function checkSpec(s: Scenario, lines: readonly ScenarioLine[]): void {
  expect(
    lines.filter((l) => l.type === 'sim.unsafe-release'),
    'workloads released while the VMs still ran',
  ).to.deep.equal([]);
  checkExpectations(s, lines);
}

/** Seed of the jitter clock: `HAFENCE_TEST_CLOCK=jitter:<seed>` picks one, else the scenario's own seed. */
function jitterSeed(s: Scenario): number {
  return parseTestClockMode(process.env.HAFENCE_TEST_CLOCK).jitter?.seed ?? s.seed;
}

describe('scenario suite (test/scenarios, SPEC §10)', function () {
  this.timeout(60_000);

  it('has at least 20 scenarios', () => {
    expect(files.length).to.be.at.least(20);
  });

  for (const file of files) {
    it(file.replace(/\.yaml$/, ''), async () => {
      const scenario = loadScenarioFile(join(dir, file));
      const lines = await runScenario(scenario);
      checkGolden(join(dir, file.replace(/\.yaml$/, '.golden.jsonl')), toJsonLines(lines));
      checkSpec(scenario, lines);
    });
  }

  describe('under the jitter clock (timers up to 2 ms early, 50 ms late; SPEC invariants, not the golden)', () => {
    for (const file of files) {
      const name = file.replace(/\.yaml$/, '');
      it(name, async () => {
        const scenario = loadScenarioFile(join(dir, file));
        const clock = new TestClock(undefined, { jitter: { seed: jitterSeed(scenario) } });
        checkSpec(scenario, await runScenario(scenario, { clock }));
      });
    }
  });

  it('is deterministic for a seed, byte for byte, and the seed matters', async () => {
    const [file] = files;
    assert.exists(file, 'a scenario file');
    const scenario = loadScenarioFile(join(dir, file));
    const a = toJsonLines(await runScenario(scenario));
    expect(toJsonLines(await runScenario(scenario))).to.equal(a);
    expect(toJsonLines(await runScenario(scenario, { seed: scenario.seed + 1 }))).to.not.equal(a);
  });
});
