import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenarioFile, parseScenario, ScenarioError, UnsupportedScenarioError, runScenario } from '@hafence/testkit';

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
    const s = parseScenario({ name: 'd', hosts: 2, steps: [{ at: '250ms', do: 'crash', host: 'h1' }, { at: '2s', do: 'bmc-slow', host: 'h2', delay: '15s' }, { at: '3m', do: 'storage-down' }], run: '1h' });
    expect(s.steps.map((x) => x.at)).to.deep.equal([250, 2000, 180_000]);
    expect(s.run).to.equal(3_600_000);
    expect(s.kvm.bootTime).to.equal(90_000);
    expect(parseScenario({ name: 'd', hosts: 2, steps: [{ at: '10m5ms', do: 'crash', host: 'h1' }], run: '1h' }).steps[0].at).to.equal(600_005);
  });

  it('names the bad field: an unknown host, a malformed duration, an unknown fault', () => {
    expect(issuesOf(() => parseScenario({ name: 'x', hosts: 3, steps: [{ at: '1m', do: 'crash', host: 'h9' }], run: '10m' }))).to.deep.equal(['steps.0.host']);
    expect(issuesOf(() => parseScenario({ name: 'x', hosts: 3, steps: [], run: '10 minutes' }))).to.deep.equal(['run']);
    expect(issuesOf(() => parseScenario({ name: 'x', hosts: 3, steps: [{ at: '1m', do: 'explode', host: 'h1' }], run: '10m' }))[0]).to.match(/^steps\.0/);
    expect(issuesOf(() => parseScenario({ name: 'x', hosts: 3, steps: [{ at: '1m', do: 'agent-down', host: 'h1', stuck: true }], run: '10m' }))).to.deep.equal(['steps.0.stuck']);
    expect(issuesOf(() => parseScenario({ name: 'x', hosts: 3, steps: [{ at: '1h', do: 'crash', host: 'h1' }], run: '10m' }))).to.deep.equal(['steps.0.at']);
    expect(issuesOf(() => parseScenario({ name: 'x', hosts: 3, steps: [{ at: '1m', do: 'crash', host: 'h1', when: 'next-arm-request' }], run: '10m' }))).to.deep.equal(['steps.0.when']);
  });

  it('the message carries the field, the value and the rule', () => {
    expect(() => parseScenario({ name: 'x', hosts: 3, steps: [{ at: '1m', do: 'bmc-slow', host: 'h1', delay: 'soon' }], run: '10m' }))
      .to.throw(ScenarioError, /steps\.0\.delay = "soon": must be a duration/);
  });

  it('reads YAML files and reports unreadable ones as typed errors', () => {
    const d = mkdtempSync(join(tmpdir(), 'hafence-scn-'));
    writeFileSync(join(d, 'ok.yaml'), 'name: ok\nhosts: 2\nsteps:\n  - { at: 5m, do: crash, host: h2 }\nrun: 10m\n');
    writeFileSync(join(d, 'bad.yaml'), 'name: [unclosed\n');
    expect(loadScenarioFile(join(d, 'ok.yaml')).steps[0]).to.deep.include({ at: 300_000, do: 'crash', host: 'h2' });
    expect(issuesOf(() => loadScenarioFile(join(d, 'bad.yaml')))).to.deep.equal(['(file)']);
    expect(issuesOf(() => loadScenarioFile(join(d, 'missing.yaml')))).to.deep.equal(['(file)']);
  });

  it('several management servers are refused with a typed error (not simulated by this runner)', async () => {
    const s = parseScenario({ name: 'ms', hosts: 2, managementServers: 2, run: '1m' });
    let caught: unknown;
    await runScenario(s).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(UnsupportedScenarioError);
  });
});
