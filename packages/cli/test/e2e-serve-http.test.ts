import { expect } from 'chai';
import { chmodSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { freePorts, waitFor } from './e2e-kvm-processes.js';
import { ServeRig, stateOf } from './serve-rig.js';

const PASSWORD = 'E2e-Http-Pw-5521';
const TOKEN = 'e2e-http-agent-token-7c1d9e3a';
const ALICE = 'e2e-api-token-alice-4b8f0c2d6e1a9f3b7d5c';
const BOB = 'e2e-api-token-bob-9d2e7a4c1f8b3e6d0a5f';
const HOSTS = ['h1', 'h2', 'h3'] as const;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: any;
  text: string;
}

/**
 * The operator API of `hafence serve --http` (issue 12, must show), with real processes:
 * serve on three simulated hosts (SimBmc over UDP, real agents), real HTTP against it:
 * partitions, resources and a resource's detail; a crash (h2's agent killed) in the
 * resource's state and on the SSE stream; maintenance on and off by POST, audited with the
 * token's NAME; a bad request answered 400 naming the field; no credentials answered 401.
 */
describe('e2e: the operator API of hafence serve --http (real processes)', function () {
  this.timeout(150_000);
  let port = 0;
  let rig: ServeRig;
  const sse: { lines: string[]; close?: () => void } = { lines: [] };

  const call = (method: string, path: string, o: { token?: string | null; body?: object } = {}) =>
    new Promise<Answer>((resolve, reject) => {
      const token = o.token === undefined ? ALICE : o.token;
      const body = o.body === undefined ? undefined : JSON.stringify(o.body);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          agent: false,
          headers: {
            ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c));
          res.on('end', () => {
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, json, text });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  before(async () => {
    [port] = (await freePorts(1)) as [number];
    rig = new ServeRig({
      name: 'e2e-http',
      password: PASSWORD,
      token: TOKEN,
      hosts: HOSTS,
      serveArgs: (dir) => ['--http', `127.0.0.1:${port}`, '--http-token-file', join(dir, 'api.tokens')],
    });
    const tokens = join(rig.dir, 'api.tokens');
    writeFileSync(tokens, `# who may call the API\nalice ${ALICE}\nbob ${BOB}\n`);
    chmodSync(tokens, 0o600);
    await rig.start();
  });

  afterEach(function () {
    rig.dumpIfFailed(this.currentTest);
  });

  after(async () => {
    sse.close?.();
    await rig.close();
  });

  it('logs where it listens (no token), then every host becomes AVAILABLE', async () => {
    await waitFor('the API listening', 30_000, () => {
      if (!rig.serve.alive) throw new Error(`serve exited ${rig.serve.exitCode}: ${rig.serve.stderr}`);
      return rig.serve.stderr.includes('operator API listening');
    });
    expect(rig.serve.stderr).to.include(`http://127.0.0.1:${port}`);
    expect(rig.serve.stderr).not.to.include(ALICE);
    expect(rig.serve.stderr).not.to.include(BOB);
    await rig.allAvailable();
  });

  it('answers 401 without credentials and with a wrong token', async () => {
    const none = await call('GET', '/api/v1/resources', { token: null });
    expect(none.status).to.equal(401);
    expect(none.json.error.code).to.equal('unauthorized');
    expect(none.headers['www-authenticate']).to.match(/^Basic realm="hafence"/);
    expect((await call('GET', '/api/v1/resources', { token: `${ALICE}x` })).status).to.equal(401);
  });

  it('GET partitions, resources and a resource’s detail', async () => {
    const parts = await call('GET', '/api/v1/partitions');
    expect(parts.status).to.equal(200);
    expect(parts.json.partitions.map((p: { id: string }) => p.id)).to.have.members(['z1', 'p1', 'c1']);
    const c1 = parts.json.partitions.find((p: { id: string }) => p.id === 'c1');
    expect(c1).to.include({ kind: 'cluster', state: 'ACTIVE', members: 3 });
    const all = await call('GET', '/api/v1/resources');
    expect(all.json.resources.map((r: { ref: { id: string }; state: string }) => [r.ref.id, r.state])).to.deep.equal(
      HOSTS.map((h) => [h, 'AVAILABLE']),
    );
    const h1 = await call('GET', '/api/v1/resources/h1');
    expect(h1.status).to.equal(200);
    expect(h1.json).to.include({ partition: 'c1', state: 'AVAILABLE', power: 'ON', owned: true });
    expect(h1.json.transitions.at(-1)).to.include({ to: 'AVAILABLE' });
    const server = await call('GET', '/api/v1/server');
    expect(server.json).to.include({ observeOnly: false });
    const metrics = await call('GET', '/metrics');
    expect(metrics.status).to.equal(200);
    expect(metrics.text).to.match(/^hafence_resources\{partition="c1",state="AVAILABLE"\} 3$/m);
  });

  it('GET /metrics: the Prometheus text of the engine, without a label per host; 401 without credentials', async () => {
    expect((await call('GET', '/metrics', { token: null })).status).to.equal(401);
    const m = await call('GET', '/metrics');
    expect(m.status).to.equal(200);
    expect(m.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4/);
    const resources = m.text
      .split('\n')
      .filter((l) => l.startsWith('hafence_resources{'))
      .map((l) => Number(l.split(' ').at(-1)));
    expect(resources.reduce((a, b) => a + b, 0)).to.equal(HOSTS.length);
    expect(m.text).to.match(/^hafence_lane_capacity\{lane="health"\} \d+$/m);
    for (const h of HOSTS) expect(m.text).not.to.include(`"${h}"`);
  });

  it('a crash shows up in the resource’s state and on the SSE stream', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/v1/events/stream',
          agent: false,
          headers: { authorization: `Bearer ${ALICE}` },
        },
        (res) => {
          expect(res.statusCode).to.equal(200);
          res.setEncoding('utf8').on('data', (c: string) => sse.lines.push(...c.split('\n')));
          resolve();
        },
      );
      req.on('error', reject);
      sse.close = () => req.destroy();
      req.end();
    });
    rig.agents.get('h2')!.kill('SIGKILL');
    const streamed = await waitFor('h2 leaving AVAILABLE on the stream', 60_000, () =>
      sse.lines
        .filter((l) => l.startsWith('data: '))
        .map((l) => JSON.parse(l.slice(6)) as { type: string; resource?: string; from?: string; to?: string })
        .find((e) => e.type === 'resource.transition' && e.resource === 'h2' && e.from === 'AVAILABLE'),
    );
    expect(streamed.to).to.equal('SUSPECT');
    expect(sse.lines).to.include('event: resource.transition');
    const detail = await call('GET', '/api/v1/resources/h2');
    expect(detail.json.state).not.to.equal('AVAILABLE');
    expect(detail.json.transitions.map((t: { to: string }) => t.to)).to.include('SUSPECT');
    expect(detail.json.state).to.equal(stateOf('h2', rig.serve.json()));
  });

  it('maintenance on and off by POST, audited with the token’s NAME', async () => {
    const on = await call('POST', '/api/v1/resources/h3/maintenance', {
      token: BOB,
      body: { on: true, reason: 'bios' },
    });
    expect(on.status, on.text).to.equal(200);
    const h3 = await call('GET', '/api/v1/resources/h3');
    expect(h3.json.maintenance.operator).to.include({ by: 'bob', reason: 'bios' });
    const off = await call('POST', '/api/v1/resources/h3/maintenance', { body: { on: false } });
    expect(off.status).to.equal(200);
    expect((await call('GET', '/api/v1/resources/h3')).json.maintenance.operator).to.equal(undefined);
    const audits = await waitFor('both audits in the history', 10_000, () => {
      const list = rig.serve.json().filter((e) => e.type === 'operator.action');
      return list.length >= 2 && list;
    });
    expect(audits.map((e) => [e.by, e.action, e.target])).to.deep.equal([
      ['bob', 'maintenance-on', 'host:h3'],
      ['alice', 'maintenance-off', 'host:h3'],
    ]);
    const history = await call('GET', '/api/v1/events?limit=1000');
    const stored = history.json.events.filter((e: { type: string }) => e.type === 'operator.action');
    expect(stored.map((e: { event: { by: string } }) => e.event.by)).to.deep.equal(['bob', 'alice']);
  });

  it('answers 400 naming the field of a bad request', async () => {
    const bad = await call('POST', '/api/v1/resources/h3/maintenance', { body: { on: 'yes' } });
    expect(bad.status).to.equal(400);
    expect(bad.json.error).to.include({ code: 'bad-request', field: 'on' });
    const query = await call('GET', '/api/v1/resources?state=ASLEEP');
    expect(query.status).to.equal(400);
    expect(query.json.error).to.include({ code: 'bad-request', field: 'state' });
  });

  it('SIGTERM closes the API, then the engine; serve exits 0', async () => {
    rig.serve.kill('SIGTERM');
    expect(await rig.serve.waitExit(30_000)).to.equal(0);
    const err = await call('GET', '/api/v1/server').then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(err).to.equal('ECONNREFUSED');
  });
});
