import { expect } from 'chai';
import { chmodSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { freePorts, waitFor } from './e2e-kvm-processes.js';
import { HAFENCE_BIN, hafence } from './power-sim-helper.js';
import { ServeRig } from './serve-rig.js';

const PASSWORD = 'Status-Serve-Pw-41';
const TOKEN = 'status-serve-agent-token-5e2a9c';
const ALICE = 'status-serve-api-token-alice-0f3b8d2e6a';
const HOSTS = ['h1', 'h2'] as const;

type Overview = {
  server: { msId: string; now: number };
  partitions: { id: string; state: string }[];
  resources: { ref: { id: string }; partition: string; state: string; power?: string }[];
};

/**
 * `hafence status` against the real thing: `hafence serve --http` on two simulated hosts
 * (SimBmc over UDP, real agents), every command a real process.
 */
describe('hafence status against hafence serve --http (real processes)', function () {
  this.timeout(120_000);
  let url = '';
  let rig: ServeRig;
  let tokens = '';

  const status = (...args: string[]) => hafence(['status', '--url', url, '--token-file', tokens, ...args]);

  before(async () => {
    const [port] = (await freePorts(1)) as [number];
    url = `http://127.0.0.1:${port}`;
    rig = new ServeRig({
      name: 'status-serve',
      password: PASSWORD,
      token: TOKEN,
      hosts: HOSTS,
      serveArgs: (dir) => ['--http', `127.0.0.1:${port}`, '--http-token-file', join(dir, 'api.tokens')],
    });
    tokens = join(rig.dir, 'api.tokens');
    writeFileSync(tokens, `alice ${ALICE}\n`);
    chmodSync(tokens, 0o600);
    await rig.start();
    await waitFor('the API listening', 30_000, () => {
      if (!rig.serve.alive) throw new Error(`serve exited ${rig.serve.exitCode}: ${rig.serve.stderr}`);
      return rig.serve.stderr.includes('operator API listening');
    });
    await rig.allAvailable();
  });

  afterEach(function () {
    rig.dumpIfFailed(this.currentTest);
  });

  after(async () => {
    await rig?.close();
  });

  it('lists the partitions and every host with its state and power', async () => {
    const r = await status();
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as Overview;
    expect(out.partitions.map((p) => p.id)).to.have.members(['z1', 'p1', 'c1']);
    expect(out.resources.map((x) => [x.ref.id, x.partition, x.state, x.power])).to.deep.equal(
      HOSTS.map((h) => [h, 'c1', 'AVAILABLE', 'ON']),
    );
    expect(r.stdout + r.stderr).not.to.include(ALICE);
  });

  it('a host in detail: its transitions (with reasons) since the start', async () => {
    const r = await status('h1');
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout) as {
      resource: { ref: { id: string }; state: string; transitions: { to: string; reason?: string }[] };
    };
    expect(out.resource.ref.id).to.equal('h1');
    expect(out.resource.state).to.equal('AVAILABLE');
    expect(out.resource.transitions.at(-1)?.to).to.equal('AVAILABLE');
    expect(out.resource.transitions.every((t) => typeof t.reason === 'string')).to.equal(true);
    expect((await status('h9')).code).to.equal(1);
  });

  it('a wrong token exits 3; nothing listening exits 4', async () => {
    const wrong = join(rig.dir, 'wrong.tokens');
    writeFileSync(wrong, `alice ${ALICE}x\n`);
    chmodSync(wrong, 0o600);
    expect((await hafence(['status', '--url', url, '--token-file', wrong])).code).to.equal(3);
    const [free] = (await freePorts(1)) as [number];
    expect((await hafence(['status', '--url', `http://127.0.0.1:${free}`, '--token-file', tokens])).code).to.equal(4);
  });

  it('on a terminal (under script(1)): the partitions table, then a row per host with state and power', async () => {
    const cmd = [process.execPath, HAFENCE_BIN, 'status', '--url', url, '--token-file', tokens].join(' ');
    const out = await new Promise<{ code: number; text: string }>((resolve) =>
      execFile('script', ['-qec', cmd, '/dev/null'], { timeout: 30_000 }, (err, stdout) =>
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, text: stdout }),
      ),
    );
    expect(out.code, out.text).to.equal(0);
    const lines = out.text.split(/\r?\n/);
    const parts = lines.findIndex((l) => l.startsWith('PARTITION'));
    const hosts = lines.findIndex((l) => l.startsWith('HOST'));
    expect(parts, out.text).to.be.within(0, hosts - 1);
    for (const [i, h] of HOSTS.entries()) {
      const cells = lines[hosts + 1 + i]!.split(/\s{2,}/); // HOST CLUSTER STATE SINCE POWER WAITING
      expect([cells[0], cells[1], cells[2], cells[4]], out.text).to.deep.equal([h, 'c1', 'AVAILABLE', 'ON']);
    }
  });
});
