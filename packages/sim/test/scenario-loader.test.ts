import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@hafence/core';
import { createFakeCluster } from '@hafence/testkit';
import {
  createSimKvmEnv,
  loadScenarioFile,
  parseScenario,
  ScenarioError,
  ScenarioRun,
  UnsupportedScenarioError,
  runScenario,
} from '@hafence/sim';

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ScenarioError);
    expect((err as ScenarioError).code).to.equal('HAF6001');
    return (err as ScenarioError).issues.map((i) => i.path);
  }
  throw new Error('expected a ScenarioError');
}

describe('scenario loader', () => {
  it('parses durations in ms, s, m and h', () => {
    const s = parseScenario({
      name: 'd',
      hosts: 2,
      steps: [
        { at: '250ms', do: 'crash', host: 'h1' },
        { at: '2s', do: 'bmc-slow', host: 'h2', delay: '15s' },
        { at: '3m', do: 'storage-down' },
      ],
      run: '1h',
    });
    expect(s.steps.map((x) => x.at)).to.deep.equal([250, 2000, 180_000]);
    expect(s.run).to.equal(3_600_000);
    expect(s.kvm.bootTime).to.equal(90_000);
    expect(
      parseScenario({ name: 'd', hosts: 2, steps: [{ at: '10m5ms', do: 'crash', host: 'h1' }], run: '1h' }).steps[0]
        ?.at,
    ).to.equal(600_005);
  });

  it('a megabyte-long duration is refused at once, naming the field (regression: the parser took minutes)', () => {
    const huge = `${'1'.repeat(1_000_000)}m`;
    expect(
      issuesOf(() => parseScenario({ name: 'x', hosts: 3, steps: [{ at: huge, do: 'crash', host: 'h1' }], run: huge })),
    ).to.deep.equal(['steps.0.at', 'run']);
    expect(
      issuesOf(() => parseScenario({ name: 'x', hosts: 3, steps: [], run: '10m', kvm: { heartbeatInterval: huge } })),
    ).to.deep.equal(['kvm.heartbeatInterval']);
  });

  it('a step with a management-server fault is refused before the run starts (regression: exit 1 halfway)', async () => {
    const s = parseScenario({ name: 'x', hosts: 3, steps: [{ at: '1m', do: 'ms-crash', ms: 'ms1' }], run: '5m' });
    const err = await ScenarioRun.start(s).then(
      async (run) => run.close(),
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(UnsupportedScenarioError);
  });

  it('names the bad field: an unknown host, a malformed duration, an unknown fault', () => {
    expect(
      issuesOf(() =>
        parseScenario({ name: 'x', hosts: 3, steps: [{ at: '1m', do: 'crash', host: 'h9' }], run: '10m' }),
      ),
    ).to.deep.equal(['steps.0.host']);
    expect(issuesOf(() => parseScenario({ name: 'x', hosts: 3, steps: [], run: '10 minutes' }))).to.deep.equal(['run']);
    expect(
      issuesOf(() =>
        parseScenario({ name: 'x', hosts: 3, steps: [{ at: '1m', do: 'explode', host: 'h1' }], run: '10m' }),
      )[0],
    ).to.match(/^steps\.0/);
    expect(
      issuesOf(() =>
        parseScenario({
          name: 'x',
          hosts: 3,
          steps: [{ at: '1m', do: 'agent-down', host: 'h1', stuck: true }],
          run: '10m',
        }),
      ),
    ).to.deep.equal(['steps.0.stuck']);
    expect(
      issuesOf(() =>
        parseScenario({ name: 'x', hosts: 3, steps: [{ at: '1h', do: 'crash', host: 'h1' }], run: '10m' }),
      ),
    ).to.deep.equal(['steps.0.at']);
    expect(
      issuesOf(() =>
        parseScenario({
          name: 'x',
          hosts: 3,
          steps: [{ at: '1m', do: 'crash', host: 'h1', when: 'next-arm-request' }],
          run: '10m',
        }),
      ),
    ).to.deep.equal(['steps.0.when']);
  });

  describe('every value is bounded (SPEC §4)', () => {
    const base = { name: 'b', hosts: 6, run: '10m' };

    it("validates config with core's schema, naming the field under config", () => {
      expect(
        issuesOf(() =>
          parseScenario({ ...base, config: { defaults: { fenceTimeout: 0, inactiveChecksToRecover: 0 } } }),
        ),
      ).to.deep.equal(['config.defaults.inactiveChecksToRecover', 'config.defaults.fenceTimeout']);
      expect(
        issuesOf(() => parseScenario({ ...base, config: { clusters: { c1: { quietPeriod: '5s' } } } })),
      ).to.deep.equal(['config.clusters.c1.quietPeriod']);
      expect(
        issuesOf(() => parseScenario({ ...base, config: { hosts: { h2: { powerOpTimeout: '40s' } } } })),
      ).to.deep.equal(['config.hosts.h2.recoverTimeout', 'config.hosts.h2.fenceTimeout']);
      expect(issuesOf(() => parseScenario({ ...base, config: { healthCheckInterval: '10s' } }))).to.deep.equal([
        'config',
      ]);
    });

    it('refuses an override of a host or partition the scenario does not have', () => {
      expect(
        issuesOf(() =>
          parseScenario({
            ...base,
            config: { hosts: { h9: { quietPeriod: '3m' } }, clusters: { c2: {} }, pods: { p1: {} } },
          }),
        ),
      ).to.deep.equal(['config.clusters.c2', 'config.hosts.h9']);
      expect(() =>
        parseScenario({
          ...base,
          config: { hosts: { h6: {} }, clusters: { c1: {} }, pods: { p1: {} }, zones: { z1: {} } },
        }),
      ).to.not.throw();
    });

    it('createSimKvmEnv and createFakeCluster refuse an override of a host they do not build, before starting anything', async () => {
      const cases: Array<[() => Promise<{ close(): Promise<void> }>, string]> = [
        [() => createSimKvmEnv({ hosts: 2, config: { hosts: { h3: {} } } }), 'hosts.h3'],
        [() => createFakeCluster({ hosts: 2, config: { clusters: { c2: {} } } }), 'clusters.c2'],
      ];
      for (const [create, path] of cases) {
        let caught: unknown;
        await create().then(
          (env) => env.close(),
          (e: unknown) => (caught = e),
        );
        expect(caught, path).to.be.instanceOf(ConfigError);
        expect((caught as ConfigError).issues.map((i) => i.path)).to.deep.equal([path]);
      }
    });

    it('bounds the simulation knobs and names steps and expectations that point nowhere', () => {
      expect(
        issuesOf(() => parseScenario({ ...base, kvm: { heartbeatInterval: 0, selfFenceAfter: '25h' } })),
      ).to.deep.equal(['kvm.heartbeatInterval', 'kvm.selfFenceAfter']);
      expect(parseScenario({ ...base, kvm: { leaseMargin: 0 } }).kvm.leaseMargin).to.equal(0);
      expect(
        issuesOf(() =>
          parseScenario({
            ...base,
            managementServers: 2,
            expect: { released: ['h7'], final: { h8: 'FENCED' } },
            steps: [
              { at: '1m', do: 'ha-disable', cluster: 'c2' },
              { at: '2m', do: 'ms-crash', ms: 'ms3' },
              { at: '3m', do: 'bmc-slow', host: 'h1', delay: '25h' },
            ],
          }),
        ),
      ).to.have.members(['steps.0.cluster', 'steps.1.ms', 'steps.2.delay', 'expect.released', 'expect.final.h8']);
    });
  });

  it('the message carries the field, the value and the rule', () => {
    expect(() =>
      parseScenario({
        name: 'x',
        hosts: 3,
        steps: [{ at: '1m', do: 'bmc-slow', host: 'h1', delay: 'soon' }],
        run: '10m',
      }),
    ).to.throw(ScenarioError, /steps\.0\.delay = "soon": must be a duration/);
  });

  it('reads YAML files and reports unreadable ones as typed errors', () => {
    const d = mkdtempSync(join(tmpdir(), 'hafence-scn-'));
    writeFileSync(join(d, 'ok.yaml'), 'name: ok\nhosts: 2\nsteps:\n  - { at: 5m, do: crash, host: h2 }\nrun: 10m\n');
    writeFileSync(join(d, 'bad.yaml'), 'name: [unclosed\n');
    expect(loadScenarioFile(join(d, 'ok.yaml')).steps[0]).to.deep.include({ at: 300_000, do: 'crash', host: 'h2' });
    expect(issuesOf(() => loadScenarioFile(join(d, 'bad.yaml')))).to.deep.equal(['(file)']);
    expect(issuesOf(() => loadScenarioFile(join(d, 'missing.yaml')))).to.deep.equal(['(file)']);
  });

  it('several management servers run: one takes the partition, every line names its server', async () => {
    const s = parseScenario({ name: 'ms', hosts: 2, managementServers: 2, run: '1m' });
    const lines = await runScenario(s);
    const acquired = lines.filter((l) => l.type === 'partition.acquired');
    expect(acquired.map((l) => [l.partition, l.epoch])).to.deep.equal([['c1', 1]]);
    const engine = lines.filter((l) => !l.type.startsWith('sim.') && l.type !== 'scenario.step');
    expect(engine.length).to.be.greaterThan(0);
    expect(engine.filter((l) => l.ms !== 'ms1' && l.ms !== 'ms2')).to.deep.equal([]);
    const owner = String(acquired[0]!.ms);
    const transitions = lines.filter((l) => l.type === 'resource.transition');
    expect(transitions.length).to.be.greaterThan(0);
    expect(
      transitions.every((l) => l.ms === owner),
      'only the owner runs the resources',
    ).to.equal(true);
  });
});
