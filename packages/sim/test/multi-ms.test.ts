import { expect } from 'chai';
import { join } from 'node:path';
import {
  loadScenarioFile,
  parseScenario,
  runScenario,
  ScenarioRun,
  type ScenarioLine,
  type SimBmcCommand,
} from '@hafence/sim';
import { repoRoot } from './golden.js';

const dir = join(repoRoot(), 'test', 'scenarios');
const STOPS = new Set(['off', 'soft', 'cycle', 'reset']);

/** Runs a scenario file to its end; returns its log and the BMC command log (with the sending server). */
async function run(file: string): Promise<{ lines: ScenarioLine[]; commands: readonly SimBmcCommand[] }> {
  const scenario = loadScenarioFile(join(dir, file));
  const r = await ScenarioRun.start(scenario);
  try {
    await r.advanceTo(scenario.run);
  } finally {
    await r.close();
  }
  const commands = r.env.servers?.bmcCommands;
  if (!commands) throw new Error('several servers expected');
  return { lines: r.lines, commands };
}

/** The servers in the order their commands reached the BMCs, runs of one server collapsed. */
function senders(commands: readonly SimBmcCommand[]): string[] {
  const out: string[] = [];
  for (const c of commands) if (out[out.length - 1] !== c.ms) out.push(c.ms);
  return out;
}

describe('several management servers (docs/behaviour.md#several-servers)', function () {
  this.timeout(60_000);

  it('takeover mid-recovery: the new owner waits leaseTtl + actBound, releases nothing twice, powers the host on once', async () => {
    const { lines, commands } = await run('ms-takeover-mid-recovery.yaml');
    const crash = lines.find((l) => l.type === 'scenario.step' && l.do === 'ms-crash')!;
    const owner = String(crash.ms);
    const taken = lines.filter((l) => l.type === 'partition.acquired' && l.partition === 'c1');
    expect(taken.map((l) => [l.ms, l.epoch])).to.deep.equal([
      [owner, 1],
      ['ms1', 2],
    ]);
    expect(taken[1]!.t - crash.t, 'waited leaseTtl (30 s) + actBound (20 s) at least').to.be.at.least(50_000);
    expect(
      lines.filter((l) => l.ms === owner && l.t > crash.t),
      'a crashed server says nothing',
    ).to.deep.equal([]);
    const released = lines.filter((l) => l.type === 'workloads.released' && l.resource === 'h3');
    expect(released.map((l) => l.ms)).to.deep.equal([owner]);
    const h3 = commands.filter((c) => c.host === 'h3');
    expect(
      h3.filter((c) => STOPS.has(c.command)),
      'one stop command in all',
    ).to.have.length(1);
    // The new owner finishes the recovery: our own OFF read back, the host powered on once.
    const on = h3.filter((c) => c.command === 'on');
    expect(
      on.map((c) => c.ms),
      'powered on once, by the new owner',
    ).to.deep.equal(['ms1']);
    expect(on[0]!.at).to.be.greaterThan(taken[1]!.t);
    expect(senders(h3)).to.deep.equal([owner, 'ms1']);
    const last = lines.filter((l) => l.type === 'resource.transition' && l.resource === 'h3').at(-1);
    expect(last).to.include({ to: 'AVAILABLE', ms: 'ms1' });
  });

  it('an isolated owner that still reaches the BMCs stops sending before the new owner starts', async () => {
    const { lines, commands } = await run('ms-isolated-owner.yaml');
    const isolated = lines.find((l) => l.type === 'scenario.step' && l.do === 'ms-isolate')!;
    const old = String(isolated.ms);
    const lost = lines.find((l) => l.type === 'partition.lost' && l.ms === old)!;
    const taken = lines.find((l) => l.type === 'partition.acquired' && l.epoch === 2)!;
    expect(lost, 'the isolated owner drops its lease at its deadline').to.not.equal(undefined);
    expect(lost.t - isolated.t, 'within leaseTtl − margin of its last renewal').to.be.at.most(20_000);
    expect(taken.ms).to.not.equal(old);
    expect(lost.t).to.be.lessThan(taken.t);
    const oldCmds = commands.filter((c) => c.ms === old);
    const newCmds = commands.filter((c) => c.ms === taken.ms);
    expect(newCmds.length, 'the new owner sent commands').to.be.greaterThan(0);
    const lastOld = Math.max(...oldCmds.map((c) => c.at));
    const firstNew = Math.min(...newCmds.map((c) => c.at));
    expect(lastOld, "the old owner's last command precedes the new owner's first").to.be.lessThan(firstNew);
    for (const host of new Set(commands.map((c) => c.host))) {
      expect(senders(commands.filter((c) => c.host === host)).length, `one server at a time on ${host}`).to.equal(1);
    }
    expect(senders(commands), 'no interleaving across the BMCs').to.deep.equal([old, String(taken.ms)]);
  });

  it('two servers racing for the global fence budget never exceed it', async () => {
    const { lines, commands } = await run('ms-global-budget-race.yaml');
    const owners = new Set(lines.filter((l) => l.type === 'partition.acquired').map((l) => l.ms));
    expect(owners.size, 'each server owns a cluster').to.equal(2);
    const stops = commands.filter((c) => STOPS.has(c.command));
    expect(stops.length).to.be.at.most(2);
    expect(new Set(stops.map((c) => c.ms)).size, 'both servers took part').to.equal(2);
    const halted = lines.filter((l) => l.type === 'fencing.halted' && l.scope === 'global');
    expect(halted.length).to.be.greaterThan(0);
  });

  it('a crashed server started again joins with a fresh run and leaves the partition with its new owner', async () => {
    const lines = await runScenario(
      parseScenario({
        name: 'restart',
        hosts: 4,
        managementServers: 2,
        steps: [
          { at: '1m', do: 'ms-crash', ms: 'ms2' },
          { at: '3m', do: 'ms-start', ms: 'ms2' },
        ],
        run: '6m',
      }),
    );
    const taken = lines.filter((l) => l.type === 'partition.acquired').map((l) => [l.ms, l.epoch]);
    expect(taken).to.deep.equal([
      ['ms2', 1],
      ['ms1', 2],
    ]);
    const restarted = lines.filter((l) => l.ms === 'ms2' && l.t >= 180_000);
    expect(restarted.length, 'the new run speaks again').to.be.greaterThan(0);
    expect(
      restarted.filter((l) => l.type === 'resource.transition'),
      'but runs nothing: ms1 holds c1',
    ).to.deep.equal([]);
  });
});
