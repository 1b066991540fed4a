import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { within } from './power-sim-helper.js';

/**
 * The cluster file's observe-only switches (docs/observe-only.md): `zones.<id>.observeOnly`, `pods.<id>.observeOnly`
 * and `clusters.<id>.observeOnly` are booleans; anything else exits 2 naming the field, and nothing starts.
 */
describe('serve: observe-only switches of the cluster file (real processes)', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'hafence-observe-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const tokenFile = join(dir, 'agent.token');
  writeFileSync(tokenFile, 'Tok-Observe-Cli-5d2e\n', { mode: 0o600 });

  const file = (zone: string, pod: string, cluster: string): string => {
    const path = join(dir, 'c.yaml');
    writeFileSync(
      path,
      `agentTokenFile: ${tokenFile}
zones: { z1: { ${zone} } }
pods: { p1: { zone: z1, ${pod} } }
clusters: { c1: { pod: p1, ${cluster} } }
hosts:
  h1: { cluster: c1, agent: { url: "http://127.0.0.1:9" }, bmc: { address: 10.0.0.1, username: admin, passwordEnv: BP } }
`,
    );
    return path;
  };

  const cases: Array<[string, [string, string, string], string]> = [
    ['zone', ['observeOnly: "yes"', '', ''], 'zones.z1.observeOnly'],
    ['pod', ['', 'observeOnly: 1', ''], 'pods.p1.observeOnly'],
    ['cluster', ['', '', 'observeOnly: on'], 'clusters.c1.observeOnly'],
  ];
  for (const [where, [zone, pod, cluster], named] of cases) {
    it(`a ${where}'s observeOnly that is not a boolean: exit 2 naming ${named}`, async () => {
      const r = await within(10_000, ['serve', '--config', file(zone, pod, cluster), '--json'], { BP: 'b' });
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.include(named);
      expect(r.stdout).to.equal('');
    });
  }

  it('serve --help lists --observe-only', async () => {
    const r = await within(10_000, ['serve', '--help'], {});
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/--observe-only\s/);
  });
});
