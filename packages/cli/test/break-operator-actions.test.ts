import { expect } from 'chai';
import { chmodSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { freePorts, waitFor } from './e2e-kvm-processes.js';
import { ServeRig, type ServeEvent } from './serve-rig.js';

/*
 * Break test (issue 12): the operator switches HA off for the cluster the moment hafence starts
 * cutting a crashed host's power (RECOVERING). SPEC §2: "ACTIVE→INACTIVE [and off]: every
 * resource → NONE; any check/recover/fence in flight is cancelled …; a stop command cancelled
 * between off and on is reconciled by a status read, and an alert says which host was left
 * OFF". Real processes: serve, agents, SimBmcs.
 */

const PASSWORD = 'Brk-Act-Bmc-Pw-64';
const TOKEN = 'break-actions-agent-token-8b2d6f0a';
const ALICE = 'break-actions-api-alice-1e5c9a3f7d2b8e6a4c0f';
const HOSTS = ['h1', 'h2', 'h3'] as const;

describe('break: HA switched off during a power cut (real processes)', function () {
  this.timeout(60_000);
  let port = 0;
  let rig: ServeRig;

  const post = (path: string, body: object) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path,
          agent: false,
          headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json' },
        },
        (res) => {
          let out = '';
          res.setEncoding('utf8').on('data', (c: string) => (out += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: out }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });

  before(async () => {
    [port] = (await freePorts(1)) as [number];
    rig = new ServeRig({
      name: 'break-actions',
      password: PASSWORD,
      token: TOKEN,
      hosts: HOSTS,
      serveArgs: (dir) => ['--http', `127.0.0.1:${port}`, '--http-token-file', join(dir, 'api.tokens')],
    });
    const tokens = join(rig.dir, 'api.tokens');
    writeFileSync(tokens, `alice ${ALICE}\n`);
    chmodSync(tokens, 0o600);
    await rig.start();
    await rig.allAvailable();
  });

  afterEach(function () {
    rig.dumpIfFailed(this.currentTest);
  });

  after(async () => {
    await rig.close();
  });

  it('HA off as RECOVERING starts: audited once, h1 → NONE, and h1 is not left OFF without an alert', async () => {
    let answer: Promise<{ status: number; text: string }> | undefined;
    rig.serve.onLine((line) => {
      if (answer === undefined && line.includes('"to":"RECOVERING"') && line.includes('"resource":"h1"'))
        answer = post('/api/v1/partitions/c1/ha', { enabled: false, reason: 'network work' });
    });
    rig.agents.get('h1')!.kill('SIGKILL');
    await waitFor('h1 RECOVERING and the switch sent', 40_000, () => answer !== undefined);
    const got = await answer!;
    expect(got.status, got.text).to.equal(200);
    const events = await waitFor('h1 → NONE', 20_000, () => {
      const list = rig.serve.json<ServeEvent>();
      return list.some((e) => e.type === 'resource.transition' && e.resource === 'h1' && e.to === 'NONE') && list;
    });
    await new Promise((r) => setTimeout(r, 8_000));
    const all = rig.serve.json<ServeEvent>();
    expect(all.filter((e) => e.type === 'operator.action' && e.action === 'ha-disable')).to.have.length(1);
    expect(
      events.find((e) => e.type === 'partition.transition' && e.partition === 'c1' && e.to === 'NONE'),
    ).not.to.equal(undefined);
    const chassis = rig.bmcs.get('h1')!.chassis;
    const leftOffAlert = all.some((e) => e.type === 'alert' && e.resource === 'h1');
    expect(
      chassis.power === 'ON' || leftOffAlert,
      `h1 chassis ${chassis.power}, log ${chassis.log.join(',')}, no alert`,
    ).to.equal(true);
    const after = all.filter((e) => e.type === 'power.action' && e.host === 'h1');
    expect(after.filter((e) => e.action === 'off').length).to.be.at.most(1);
  });
});
