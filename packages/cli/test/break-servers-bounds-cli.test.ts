import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { within } from './power-sim-helper.js';

/**
 * `servers:` ids at their bounds (cli README: `--ms-id` must be one of `servers`; ids are letters, digits, . _ -, at
 * most 64 as `--ms-id` says): an id that `--ms-id` can never take must be refused in the file too (exit 2 naming
 * `servers.N.id`), or the server it names could never start.
 */
describe('break: servers ids at their bounds (real processes)', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'hafence-break-servers-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const tokenFile = join(dir, 'agent.token');
  writeFileSync(tokenFile, 'Tok-Servers-Bounds-9a1\n', { mode: 0o600 });

  it('a 65-character server id in servers: exit 2 naming servers.1.id (as --ms-id refuses it)', async () => {
    const long = 'm'.repeat(65);
    const file = join(dir, 'c.yaml');
    writeFileSync(
      file,
      `servers: [{ id: ms1 }, { id: ${long} }]
store: { url: "postgres://hafence@127.0.0.1:1/hafence", passwordEnv: DBPW }
agentTokenFile: ${tokenFile}
zones: { z1: {} }
pods: { p1: { zone: z1 } }
clusters: { c1: { pod: p1 } }
hosts:
  h1: { cluster: c1, agent: { url: "http://127.0.0.1:9" }, bmc: { address: 10.0.0.1, username: admin, passwordEnv: BP } }
`,
    );
    const peer = await within(10_000, ['serve', '--config', file, '--ms-id', long, '--json'], { BP: 'b', DBPW: 'd' });
    expect(peer.code, 'the long id cannot be started as --ms-id').to.equal(2);
    const r = await within(10_000, ['serve', '--config', file, '--ms-id', 'ms1', '--json'], { BP: 'b', DBPW: 'd' });
    expect(r.code, r.stderr).to.equal(2);
    expect(r.stderr).to.include('servers.1.id');
  });
});
