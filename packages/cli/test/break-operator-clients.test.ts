import { expect } from 'chai';
import { chmodSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { freePorts, waitFor } from './e2e-kvm-processes.js';
import { ServeRig } from './serve-rig.js';

/*
 * Break tests (issue 12): hostile clients against `hafence serve --http`, real processes
 * (serve, agents, SimBmcs). docs/operator-api.md: "request headers within 5 s, the whole
 * request within 10 s … at most 256 open connections (the oldest idle one makes room for a
 * new one)"; reasons "no control characters".
 */

const PASSWORD = 'Brk-Cli-Bmc-Pw-8841';
const TOKEN = 'break-clients-agent-token-5e2a9c7d';
const ALICE = 'break-clients-api-alice-7f3b1d9e5c2a8f4b6d0e';
const HOSTS = ['h1', 'h2'] as const;

interface Answer {
  status: number;
  json: any;
  text: string;
}

describe('break: hostile clients of the operator API (real processes)', function () {
  this.timeout(60_000);
  let port = 0;
  let rig: ServeRig;
  const sockets: Socket[] = [];

  const call = (method: string, path: string, body?: object, timeoutMs = 5_000) =>
    new Promise<Answer>((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          agent: false,
          timeout: timeoutMs,
          headers: {
            authorization: `Bearer ${ALICE}`,
            ...(text !== undefined ? { 'content-type': 'application/json' } : {}),
          },
        },
        (res) => {
          let out = '';
          res.setEncoding('utf8').on('data', (c: string) => (out += c));
          res.on('end', () => {
            let json: unknown;
            try {
              json = JSON.parse(out);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, json, text: out });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(text);
    });

  /** Opens `n` raw TCP connections, each writing `first` (if any); resolves once all are connected. */
  const open = async (n: number, first?: string): Promise<Socket[]> => {
    const list = await Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise<Socket>((resolve) => {
            const s = connect(port, '127.0.0.1', () => {
              if (first !== undefined) s.write(first);
              resolve(s);
            });
            s.on('error', () => resolve(s));
          }),
      ),
    );
    sockets.push(...list);
    return list;
  };
  const openCount = (list: readonly Socket[]) => list.filter((s) => !s.destroyed && !s.readableEnded).length;
  const closeAll = (list: readonly Socket[]) => {
    for (const s of list) s.destroy();
  };

  before(async () => {
    [port] = (await freePorts(1)) as [number];
    rig = new ServeRig({
      name: 'break-clients',
      password: PASSWORD,
      token: TOKEN,
      hosts: HOSTS,
      serveArgs: (dir) => ['--http', `127.0.0.1:${port}`, '--http-token-file', join(dir, 'api.tokens')],
    });
    const tokens = join(rig.dir, 'api.tokens');
    writeFileSync(tokens, `alice ${ALICE}\n`);
    chmodSync(tokens, 0o600);
    await rig.start();
    await waitFor('the API listening', 45_000, () => {
      if (!rig.serve.alive) throw new Error(`serve exited ${rig.serve.exitCode}: ${rig.serve.stderr}`);
      return rig.serve.stderr.includes('operator API listening');
    });
    await rig.allAvailable();
  });

  afterEach(function () {
    closeAll(sockets);
    rig.dumpIfFailed(this.currentTest);
  });

  after(async () => {
    closeAll(sockets);
    await rig.close();
  });

  it('answers an operator while 200 idle connections (no byte sent) are open', async () => {
    const idle = await open(200);
    await new Promise((r) => setTimeout(r, 500));
    const got = await call('GET', '/api/v1/server').then(
      (a) => String(a.status),
      (e: NodeJS.ErrnoException) => e.code ?? e.message,
    );
    closeAll(idle);
    expect(got).to.equal('200');
  });

  it('closes connections that send no request header within the 5 s header limit', async () => {
    const idle = await open(20);
    await new Promise((r) => setTimeout(r, 11_000));
    const still = openCount(idle);
    closeAll(idle);
    expect(still, 'idle connections still open after 11 s').to.equal(0);
  });

  it('answers an operator within 5 s while 150 slowloris connections trickle header lines', async () => {
    const slow = await open(150, 'GET /api/v1/server HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => {
      for (const s of slow) if (!s.destroyed) s.write('X-Slow: 1\r\n');
    }, 1_000);
    try {
      await new Promise((r) => setTimeout(r, 1_000));
      const t0 = Date.now();
      const got = await call('GET', '/api/v1/server', undefined, 5_000).then(
        (a) => String(a.status),
        (e: NodeJS.ErrnoException) => e.code ?? e.message,
      );
      expect(got, `after ${Date.now() - t0} ms`).to.equal('200');
    } finally {
      clearInterval(trickle);
      closeAll(slow);
    }
  });

  it('refuses a reason with a bidi override (U+202E) or a lone surrogate, as it refuses control characters', async () => {
    const bidi = await call('POST', '/api/v1/resources/h1/maintenance', { on: false, reason: 'ok \u202Egnp.exe' });
    const lone = await call('POST', '/api/v1/resources/h1/maintenance', { on: false, reason: 'x\uD800y' });
    expect([bidi.status, bidi.json?.error?.field]).to.deep.equal([400, 'reason']);
    expect([lone.status, lone.json?.error?.field]).to.deep.equal([400, 'reason']);
  });

  it('100 concurrent maintenance toggles: every 200 audited once, the state that of the last answer', async () => {
    const seenBefore = rig.serve.json().filter((e) => e.type === 'operator.action').length;
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        call('POST', '/api/v1/resources/h2/maintenance', { on: i % 2 === 0, reason: `toggle ${i}` }, 20_000).then(
          (a) => ({ i, a, at: process.hrtime.bigint() }),
        ),
      ),
    );
    expect(answers.map((x) => x.a.status)).to.deep.equal(answers.map(() => 200));
    const last = answers.reduce((a, b) => (b.at > a.at ? b : a));
    const audits = await waitFor('100 audits', 20_000, () => {
      const list = rig.serve
        .json()
        .filter((e) => e.type === 'operator.action')
        .slice(seenBefore);
      return list.length >= 100 && list;
    });
    await new Promise((r) => setTimeout(r, 500));
    const all = rig.serve
      .json()
      .filter((e) => e.type === 'operator.action')
      .slice(seenBefore);
    expect(all.length).to.equal(100);
    expect(new Set(audits.map((e) => e.reason)).size).to.equal(100);
    const detail = await call('GET', '/api/v1/resources/h2');
    expect(Boolean(detail.json.maintenance.operator)).to.equal(last.a.json.maintenance);
    expect(all.at(-1)!.action).to.equal(last.a.json.maintenance ? 'maintenance-on' : 'maintenance-off');
    await call('POST', '/api/v1/resources/h2/maintenance', { on: false });
  });

  it('path and body tricks: 404/400/413/415 with the error shape, the server still answers', async () => {
    const cases: [string, string, string | undefined, string | undefined, number][] = [
      ['GET', '/api/v1/resources/..%2f..%2fetc%2fpasswd', undefined, undefined, 404],
      ['GET', '/api/v1/resources/h1%00', undefined, undefined, 404],
      ['GET', '/api/v1/resources/%ZZ', undefined, undefined, 404],
      ['POST', '/api/v1/resources/h1/maintenance', '{"on":true,"__proto__":{"x":1}}', 'application/json', 400],
      ['POST', '/api/v1/resources/h1/maintenance', '{"on":', 'application/json', 400],
      ['POST', '/api/v1/resources/h1/maintenance', '{"on":true}', 'text/plain', 415],
      [
        'POST',
        '/api/v1/resources/h1/maintenance',
        `{"on":true,"reason":"${'x'.repeat(20_000)}"}`,
        'application/json',
        413,
      ],
      ['POST', '/api/v1/fencing/resume', '{"scope":"__proto__"}', 'application/json', 404],
    ];
    for (const [method, path, body, type, want] of cases) {
      const got = await new Promise<Answer>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            method,
            path,
            agent: false,
            headers: { authorization: `Bearer ${ALICE}`, ...(type ? { 'content-type': type } : {}) },
          },
          (res) => {
            let out = '';
            res.setEncoding('utf8').on('data', (c: string) => (out += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(out || 'null'), text: out }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      expect([path, got.status], got.text).to.deep.equal([path, want]);
      expect(got.json.error.code).to.be.a('string');
    }
    expect((await call('GET', '/api/v1/server')).status).to.equal(200);
    expect(({} as Record<string, unknown>).x).to.equal(undefined);
  });

  it('no secret anywhere: API token and BMC password absent from stdout, stderr, /metrics, the page, argv', async () => {
    const texts = [
      (await call('GET', '/metrics')).text,
      (await call('GET', '/')).text,
      (await call('GET', '/status.js')).text,
      (await call('GET', '/api/v1/events?limit=1000')).text,
      rig.serve.stdoutLines.join('\n'),
      rig.serve.stderr,
      rig.serve.readCmdline(),
    ];
    for (const t of texts) for (const secret of [ALICE, PASSWORD, TOKEN]) expect(t).not.to.include(secret);
  });
});
