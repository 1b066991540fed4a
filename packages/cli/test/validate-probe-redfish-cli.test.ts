import { expect } from 'chai';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedfishSim, SimBmc } from '@hafence/sim';
import { hafence } from './power-sim-helper.js';

const PASSWORD = 'rf-probe-pw-1';
const WRONG = 'Not-The-Rf-Pw-2';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 1;
}

type Row = { host: string; bmc: { result: string; detail?: string }; agent: { result: string } };

describe('hafence validate --probe with Redfish BMCs and a [redfish, ipmi] chain', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'hafence-validate-redfish-'));
  let sim: RedfishSim;
  /** Two more BMCs: two hosts of one cluster file never share a controller. */
  let sim2: RedfishSim;
  let sim3: RedfishSim;
  let ipmi: SimBmc;
  let agent: Server;
  let agentUrl = '';
  let closed = 0;
  const env = { GOOD_PW: PASSWORD, BAD_PW: WRONG };

  const host = (id: string, bmc: string) =>
    `  ${id}:\n    cluster: c1\n    agent: { url: "${agentUrl}" }\n    bmc: ${bmc}\n`;
  const clusterFile = (name: string, hosts: string[]): string => {
    const path = join(dir, name);
    writeFileSync(
      path,
      `agentTokenFile: ${join(dir, 'agent.token')}\nzones: { z1: {} }\npods: { p1: { zone: z1 } }\n` +
        `clusters: { c1: { pod: p1 } }\nhosts:\n${hosts.join('')}`,
    );
    return path;
  };
  const redfishBmc = (pw: string, redfish: string, drivers = '[redfish]', port = 623) =>
    `{ address: 127.0.0.1, port: ${port}, username: admin, passwordEnv: ${pw}, drivers: ${drivers}, redfish: ${redfish} }`;
  const probe = async (file: string) => {
    const r = await hafence(['validate', '--config', file, '--probe', '--json', '--timeout-ms', '2000'], env);
    const rows = r.code === 2 ? [] : (JSON.parse(r.stdout) as { probe: Row[] }).probe;
    return { ...r, bmc: Object.fromEntries(rows.map((x) => [x.host, x.bmc.result])), rows };
  };

  before(async () => {
    writeFileSync(join(dir, 'agent.token'), 'validate-redfish-token-0123456789abcdef\n');
    chmodSync(join(dir, 'agent.token'), 0o600);
    sim = new RedfishSim({ username: 'admin', password: PASSWORD, variant: 'dell', initialPower: 'Off' });
    await sim.start();
    writeFileSync(join(dir, 'bmc-ca.pem'), sim.certPem);
    sim2 = new RedfishSim({ username: 'admin', password: PASSWORD, variant: 'dell', initialPower: 'Off' });
    await sim2.start();
    writeFileSync(join(dir, 'bmc2-ca.pem'), sim2.certPem);
    sim3 = new RedfishSim({ username: 'admin', password: PASSWORD, variant: 'dell', initialPower: 'Off' });
    await sim3.start();
    ipmi = await SimBmc.start({ users: [{ name: 'admin', password: PASSWORD, privilege: 4 }], power: 'ON' });
    // a stand-in agent: the probe's other column, always healthy here
    agent = createHttpServer((_req, res) => res.end(JSON.stringify({ connected: true })));
    await new Promise<void>((resolve) => agent.listen(0, '127.0.0.1', resolve));
    const a = agent.address();
    agentUrl = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    closed = await closedPort();
  });
  after(async () => {
    await sim.close();
    await sim2.close();
    await sim3.close();
    await ipmi.close();
    await new Promise<void>((resolve) => agent.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('each Redfish host probed: ok, auth refused, untrusted certificate; the chain falls back to IPMI', async () => {
    const ca = join(dir, 'bmc-ca.pem');
    const file = clusterFile('mixed.yaml', [
      host('rf-good', redfishBmc('GOOD_PW', `{ port: ${sim.port}, caFile: ${ca}, systemId: System.Embedded.1 }`)),
      host('rf-badpw', redfishBmc('BAD_PW', `{ port: ${sim2.port}, caFile: ${join(dir, 'bmc2-ca.pem')} }`)),
      host('rf-untrusted', redfishBmc('GOOD_PW', `{ port: ${sim3.port} }`)),
      host('chain', redfishBmc('GOOD_PW', `{ port: ${closed} }`, '[redfish, ipmi]', ipmi.port)),
    ]);
    const r = await probe(file);
    expect(r.code, r.stderr).to.equal(5);
    expect(r.bmc).to.deep.equal({
      'rf-good': 'ok',
      'rf-badpw': 'auth refused',
      'rf-untrusted': 'protocol error',
      chain: 'ok',
    });
    expect(r.rows[0]!.bmc.detail).to.equal('power off');
    expect(r.rows[3]!.bmc.detail).to.equal('power on'); // IPMI's chassis, not the Redfish one
    expect(r.stdout + r.stderr)
      .to.not.include(PASSWORD)
      .and.not.include(WRONG);
    expect(sim.powerState()).to.equal('Off'); // a status read only
  });

  it('every host good exits 0; insecureTls is accepted and warned about', async () => {
    const file = clusterFile('ok.yaml', [
      host('rf-insecure', redfishBmc('GOOD_PW', `{ port: ${sim.port}, insecureTls: true }`)),
      host(
        'chain',
        redfishBmc(
          'GOOD_PW',
          `{ port: ${sim2.port}, caFile: ${join(dir, 'bmc2-ca.pem')} }`,
          '[redfish, ipmi]',
          ipmi.port,
        ),
      ),
    ]);
    const r = await probe(file);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.bmc).to.deep.equal({ 'rf-insecure': 'ok', chain: 'ok' });
    expect(r.rows[1]!.bmc.detail).to.equal('power off'); // answered by Redfish, first in the chain
    expect(r.stderr).to.include('insecureTls');
  });

  it('a missing Redfish CA file or an unknown field is a config error (exit 2) naming the field', async () => {
    const missing = clusterFile('missing.yaml', [
      host('rf', redfishBmc('GOOD_PW', `{ port: ${sim.port}, caFile: ${join(dir, 'nope.pem')} }`)),
    ]);
    const m = await hafence(['validate', '--config', missing], env);
    expect(m.code).to.equal(2);
    expect(m.stdout + m.stderr).to.include('hosts.rf.bmc.redfish.caFile');
    const unknown = clusterFile('unknown.yaml', [
      host('rf', redfishBmc('GOOD_PW', `{ port: ${sim.port}, sslVerify: no }`)),
    ]);
    const u = await hafence(['validate', '--config', unknown], env);
    expect(u.code).to.equal(2);
    expect(u.stdout + u.stderr).to.include('sslVerify');
  });
});
