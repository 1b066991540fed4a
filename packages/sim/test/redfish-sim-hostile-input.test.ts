import { connect } from 'node:tls';
import { expect } from 'chai';
import { RedfishSim } from '@hafence/sim';
import { call } from './redfish-client.js';

const AUTH = ['admin', 'hostile-pw'] as const;
const ANSWERS = new Set([200, 201, 202, 204, 400, 401, 404, 405, 412, 413, 428]);

/** Deterministic PRNG (mulberry32), so a failure replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PATHS = [
  '/redfish',
  '/redfish/v1',
  '/redfish/v1/Systems',
  '/redfish/v1/Systems/1',
  '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset',
  '/redfish/v1/SessionService/Sessions',
  '/redfish/v1/SessionService/Sessions/1',
  '/redfish/v1/TaskService/Tasks/1',
  '/redfish/v1/Managers/BMC',
  '/redfish/v1/Chassis/1',
];
const VALUES: unknown[] = [
  'On',
  'ForceOff',
  'Nmi',
  '',
  'x'.repeat(300),
  7,
  -1,
  1e308,
  null,
  true,
  [],
  {},
  ['ForceOff'],
  { ResetType: 'On' },
  '\u0000',
  '🔥',
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function body(r: () => number): string {
  const kind = Math.floor(r() * 6);
  if (kind === 0) return '';
  if (kind === 1) return JSON.stringify({ ResetType: pick(r, VALUES) });
  if (kind === 2) return JSON.stringify({ UserName: pick(r, VALUES), Password: pick(r, VALUES) });
  if (kind === 3) return JSON.stringify({ AssetTag: pick(r, VALUES), IndicatorLED: pick(r, VALUES) });
  const valid = JSON.stringify({ [pick(r, ['ResetType', 'AssetTag', 'x'])]: pick(r, VALUES) });
  if (kind === 4) return valid.slice(0, Math.floor(r() * valid.length)); // cut short
  return Array.from({ length: Math.floor(r() * 40) }, () => String.fromCharCode(Math.floor(r() * 256))).join('');
}

function path(r: () => number): string {
  const p = pick(r, PATHS);
  const mutation = Math.floor(r() * 5);
  if (mutation === 0) return `${p}/`;
  if (mutation === 1) return `${p}/${pick(r, ['..', '%00', '%2e%2e', 'x'.repeat(200), '1', '?a=b'])}`;
  if (mutation === 2) return `${p}?$select=PowerState`;
  return p;
}

describe('RedfishSim: hostile input never crashes it nor gets a 5xx', function () {
  this.timeout(120_000);
  let sim: RedfishSim;
  before(async () => {
    sim = new RedfishSim({ username: AUTH[0], password: AUTH[1], powerDelays: { forceOffMs: 5, onMs: 5 } });
    await sim.start();
  });
  after(() => sim.close());

  it('500 random and mutated requests over HTTPS: an expected 2xx/4xx each, JSON bodies parse', async () => {
    const r = prng(14);
    const login = await call(sim, 'POST', '/redfish/v1/SessionService/Sessions', {
      body: { UserName: AUTH[0], Password: AUTH[1] },
    });
    const token = login.headers['x-auth-token'] as string;
    for (let i = 0; i < 500; i++) {
      const method = pick(r, ['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'OPTIONS']);
      const auth = Math.floor(r() * 4);
      const reply = await call(sim, method, path(r), {
        body: method === 'GET' ? undefined : body(r),
        basic: auth === 0 ? AUTH : auth === 1 ? [AUTH[0], 'wrong'] : undefined,
        token: auth === 2 ? token : undefined,
      });
      expect(ANSWERS.has(reply.status), `#${i} ${method} → ${reply.status} ${reply.text.slice(0, 200)}`).to.equal(true);
      if (reply.text !== '') expect(reply.json, `#${i} body parses`).not.to.equal(undefined);
    }
    expect((await call(sim, 'GET', '/redfish/v1/Systems/1', { basic: AUTH })).status).to.equal(200);
  });

  it('garbage on the TLS socket and on the plain TCP port: the connection ends, the service stays up', async () => {
    for (const junk of [
      'GARBAGE\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
      '\u0000'.repeat(9),
    ]) {
      await new Promise<void>((resolve) => {
        const s = connect({ host: '127.0.0.1', port: sim.port, ca: sim.certPem }, () => s.end(junk));
        s.on('data', () => undefined);
        s.on('close', () => resolve());
        s.on('error', () => resolve());
      });
    }
    const { Socket } = await import('node:net');
    await new Promise<void>((resolve) => {
      const s = new Socket();
      s.connect(sim.port, '127.0.0.1', () => s.end('GET /redfish/v1 HTTP/1.1\r\n\r\n')); // plain HTTP on the TLS port
      s.on('data', () => undefined);
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
    expect((await call(sim, 'GET', '/redfish/v1')).status).to.equal(200);
  });
});
