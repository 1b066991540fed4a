import { expect } from 'chai';
import { request } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';
import { RedfishSim } from '@hafence/sim';

/**
 * Outside attacks on RedfishSim (a product part, issue 14): malformed requests get a 4xx, the
 * simulator never crashes and keeps answering. Titles ending "(found from outside)" failed on the code they
 * were written against (fixed since).
 */
const PW = 'sim-break-pw-4';
const basic = `Basic ${Buffer.from(`admin:${PW}`).toString('base64')}`;

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, unknown>;
}

function ask(
  sim: RedfishSim,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: sim.port,
        method,
        path,
        ca: sim.certPem,
        headers: { Authorization: basic, ...opts.headers },
        agent: false,
        timeout: opts.timeoutMs ?? 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

function raw(sim: RedfishSim): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: sim.port, ca: sim.certPem, servername: 'localhost' }, () =>
      resolve(s),
    );
    s.on('error', reject);
  });
}

const alive = async (sim: RedfishSim): Promise<void> => {
  const r = await ask(sim, 'GET', '/redfish/v1/Systems');
  expect(r.status).to.equal(200);
};

describe('break: RedfishSim against malformed and hostile clients', function () {
  this.timeout(30_000);
  let sim: RedfishSim;

  beforeEach(async () => {
    sim = new RedfishSim({ username: 'admin', password: PW, variant: 'generic' });
    await sim.start();
  });
  afterEach(async () => {
    await sim.close();
  });

  it('odd methods, paths and encodings get a 4xx, never a 5xx or a crash', async () => {
    const cases: [string, string][] = [
      ['GET', '/redfish/v1/Systems/%'],
      ['GET', '/redfish/v1/Systems/%E0%A4%A'],
      ['GET', '/redfish/v1/Systems/%00'],
      ['GET', '/redfish/v1/Systems/..%2F..%2Fetc'],
      ['GET', '/redfish/v1/Systems/1?$expand=*($levels=99999)'],
      ['GET', '//redfish//v1//Systems'],
      ['GET', '/redfish/v1/Systems/' + 'a'.repeat(8000)],
      ['PROPFIND', '/redfish/v1/Systems/1'],
      ['PUT', '/redfish/v1/Systems/1'],
      ['OPTIONS', '/redfish/v1'],
      ['DELETE', '/redfish/v1/Systems/1'],
      ['DELETE', '/redfish/v1/SessionService/Sessions/%'],
      ['PATCH', '/redfish/v1/Systems/1'],
      ['GET', '/redfish/v1/constructor'],
      ['GET', '/redfish/v1/Systems/__proto__'],
      ['GET', '/redfish/v1/Systems/hasOwnProperty'],
    ];
    for (const [method, path] of cases) {
      const r = await ask(
        sim,
        method,
        path,
        method === 'PATCH' ? { body: '{', headers: { 'Content-Type': 'application/json' } } : {},
      );
      expect(r.status, `${method} ${path.slice(0, 60)}`).to.be.within(200, 499);
    }
    await alive(sim);
  });

  it('hostile reset bodies (a ResetType that is an object): 400/413, never 5xx, and no reset is recorded (found from outside)', async () => {
    const target = '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset';
    const bodies: (string | Buffer)[] = [
      '',
      'null',
      '[]',
      '"ForceOff"',
      '{"ResetType":null}',
      '{"ResetType":["ForceOff"]}',
      '{"ResetType":{"toString":"ForceOff"}}',
      '{"__proto__":{"ResetType":"ForceOff"}}',
      '{"constructor":{"prototype":{"ResetType":"ForceOff"}}}',
      '{"ResetType":"ForceOff\\u0000"}',
      '{"ResetType":"forceoff"}',
      '['.repeat(100_000),
      Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
      '{"ResetType":"' + 'F'.repeat(2_000_000) + '"}',
    ];
    const wrong: string[] = [];
    for (const body of bodies) {
      const r = await ask(sim, 'POST', target, { body, headers: { 'Content-Type': 'application/json' } });
      if (![400, 413, 415].includes(r.status)) wrong.push(`${r.status} for ${String(body).slice(0, 50)}`);
    }
    expect(wrong).to.deep.equal([]);
    expect(sim.resets).to.have.length(0);
    await alive(sim);
  });

  it('a Content-Length that lies (longer than the body sent) and an endless chunked body: no crash, still answers', async () => {
    const s1 = await raw(sim);
    s1.write(
      'POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset HTTP/1.1\r\nHost: x\r\n' +
        `Authorization: ${basic}\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n{"ResetType":"ForceOff"}`,
    );
    const s2 = await raw(sim);
    s2.write(
      'POST /redfish/v1/SessionService/Sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        'Transfer-Encoding: chunked\r\n\r\n',
    );
    const chunk = Buffer.from(`10000\r\n${'a'.repeat(0x10000)}\r\n`);
    for (let i = 0; i < 200 && !s2.destroyed; i++) {
      s2.write(chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await alive(sim);
    s1.destroy();
    s2.destroy();
    expect(sim.resets).to.have.length(0);
    await alive(sim);
  });

  it('session exhaustion: 300 logins are either granted within a limit or refused with 4xx/503, the sim lives', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 300; i++) {
      const r = await ask(sim, 'POST', '/redfish/v1/SessionService/Sessions', {
        headers: { 'Content-Type': 'application/json', Authorization: '' },
        body: JSON.stringify({ UserName: 'admin', Password: PW }),
      });
      statuses.push(r.status);
    }
    expect(
      statuses.every((s) => [201, 400, 403, 429, 503].includes(s)),
      String(new Set(statuses).size),
    ).to.equal(true);
    await alive(sim);
  });

  it('login bodies with hostile types (numbers, arrays, huge strings, duplicate keys): 400/401, never 5xx', async () => {
    const bodies = [
      '{"UserName":1,"Password":2}',
      '{"UserName":["admin"],"Password":["' + PW + '"]}',
      '{"UserName":"admin","Password":{"length":1}}',
      '{"UserName":"admin","Password":"x","Password":"' + PW + '"}',
      '{"UserName":"' + 'a'.repeat(1_000_000) + '","Password":"x"}',
      '{}',
      'nope',
    ];
    for (const body of bodies) {
      const r = await ask(sim, 'POST', '/redfish/v1/SessionService/Sessions', {
        headers: { 'Content-Type': 'application/json', Authorization: '' },
        body,
      });
      expect(r.status, body.slice(0, 50)).to.be.oneOf([201, 400, 401, 413]);
      expect(r.body).to.not.include(PW);
    }
    await alive(sim);
  });

  it('a huge header block and a slowloris request do not stop it answering others', async () => {
    const slow = await raw(sim);
    slow.write('GET /redfish/v1 HTTP/1.1\r\nHost: x\r\n');
    const timer = setInterval(() => {
      if (!slow.destroyed) slow.write('X-A: b\r\n');
    }, 50);
    const big = await ask(sim, 'GET', '/redfish/v1', { headers: { 'X-Big': 'z'.repeat(15_000) } }).catch(
      (e: Error) => ({ status: -1, body: e.message, headers: {} }),
    );
    expect(big.status === -1 || (big.status >= 200 && big.status < 500), String(big.status)).to.equal(true);
    await alive(sim);
    clearInterval(timer);
    slow.destroy();
  });

  it('X-Auth-Token headers that are huge or hostile: 401, never 5xx', async () => {
    for (const tok of ['', ' ', 'x'.repeat(8000), '../../', '\t', 'null', 'undefined', '__proto__', 'constructor']) {
      const r = await ask(sim, 'GET', '/redfish/v1/Systems/1', { headers: { Authorization: '', 'X-Auth-Token': tok } });
      expect(r.status, JSON.stringify(tok.slice(0, 20))).to.equal(401);
    }
    await alive(sim);
  });
});
