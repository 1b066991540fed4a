import { expect } from 'chai';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { e2eClusterYaml } from './e2e-kvm-processes.js';
import { hafence } from './power-sim-helper.js';

/*
 * Break tests (issue 12): `hafence validate --config F --probe` against hostile endpoints: a
 * BMC port that answers garbage UDP, an agent that accepts and never answers, and a cluster
 * file whose agent URL carries a password (store.url refuses one: "A password inside the URL
 * … exit 2 naming store.…").
 */

const BMC_PW = 'Brk-Probe-Bmc-Pw-52';
const AGENT_TOKEN = 'break-probe-agent-token-4d8a2c6e0b';
const URL_PW = 'Url-Pass-Secret-99';

describe('break: hafence validate --probe against hostile endpoints', function () {
  this.timeout(40_000);
  let dir: string;
  let tokenFile: string;
  let garbage: UdpSocket;
  let hang: Server;
  const held: Socket[] = [];

  const write = (name: string, hosts: Parameters<typeof e2eClusterYaml>[0]) => {
    const file = join(dir, name);
    writeFileSync(file, e2eClusterYaml(hosts, tokenFile));
    return file;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hafence-break-probe-'));
    tokenFile = join(dir, 'agent.token');
    writeFileSync(tokenFile, `${AGENT_TOKEN}\n`);
    chmodSync(tokenFile, 0o600);
    garbage = createSocket('udp4');
    garbage.on('message', (_m, from) => {
      for (let i = 0; i < 3; i++)
        garbage.send(Buffer.from(`\x06\x00\xff\x07garbage${'z'.repeat(i * 60)}`), from.port, from.address);
    });
    await new Promise<void>((r) => garbage.bind(0, '127.0.0.1', r));
    hang = createServer((s) => {
      held.push(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  });

  after(async () => {
    for (const s of held) s.destroy();
    garbage.close();
    await new Promise((r) => hang.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a garbage-answering BMC and an agent that never answers: bounded by --timeout-ms, neither ok, no secret shown', async () => {
    const file = write('hostile.yaml', [
      {
        id: 'g1',
        agentUrl: `http://127.0.0.1:${(hang.address() as { port: number }).port}`,
        bmcPort: (garbage.address() as { port: number }).port,
      },
    ]);
    const run = await hafence(['validate', '--config', file, '--probe', '--timeout-ms', '2000', '--json'], {
      E2E_BMC_PW: BMC_PW,
    });
    expect(run.ms).to.be.below(12_000);
    expect([4, 5]).to.include(run.code);
    const out = JSON.parse(run.stdout) as { probe: { bmc: { result: string }; agent: { result: string } }[] };
    expect(out.probe[0]!.bmc.result).not.to.equal('ok');
    expect(out.probe[0]!.agent.result).to.equal('unreachable');
    for (const secret of [BMC_PW, AGENT_TOKEN]) expect(run.stdout + run.stderr).not.to.include(secret);
  });

  it('refuses an agent url with a password in it (exit 2 naming hosts.g1.agent.url), as store.url does', async () => {
    const file = write('userinfo.yaml', [{ id: 'g1', agentUrl: `http://admin:${URL_PW}@127.0.0.1:1/`, bmcPort: 1 }]);
    const run = await hafence(['validate', '--config', file, '--json'], { E2E_BMC_PW: BMC_PW });
    expect(run.code, run.stdout).to.equal(2);
    expect(run.stdout).to.include('hosts.g1.agent.url');
    expect(run.stdout + run.stderr).not.to.include(URL_PW);
  });

  it('never shows the password of an agent url in a probe detail', async () => {
    const file = write('userinfo-probe.yaml', [
      { id: 'g1', agentUrl: `http://admin:${URL_PW}@127.0.0.1:1/`, bmcPort: 1 },
    ]);
    const run = await hafence(['validate', '--config', file, '--probe', '--timeout-ms', '1500', '--json'], {
      E2E_BMC_PW: BMC_PW,
    });
    expect(run.stdout + run.stderr).not.to.include(URL_PW);
  });
});
