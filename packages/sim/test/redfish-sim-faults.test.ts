import { expect } from 'chai';
import { RedfishSim } from '@hafence/sim';
import { call, messageId } from './redfish-client.js';

const AUTH = ['admin', 'fault-pw'] as const;

describe('RedfishSim: faults seen by a plain HTTPS client', function () {
  this.timeout(20000);
  let sim: RedfishSim;
  beforeEach(async () => {
    sim = new RedfishSim({ username: AUTH[0], password: AUTH[1] });
    await sim.start();
  });
  afterEach(() => sim.close());

  it('down: the port refuses connections; cleared, the same port serves again', async () => {
    const port = sim.port;
    sim.setFault({ kind: 'down' });
    const err = await call(sim, 'GET', '/redfish/v1').then(
      () => 'served',
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(err).to.equal('ECONNREFUSED');
    sim.setFault(null);
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = await call(sim, 'GET', '/redfish/v1').then(
        (r) => r.status,
        () => 0,
      );
    }
    expect([sim.port, status]).to.deep.equal([port, 200]);
  });

  it('slow: every reply waits delayMs (a client deadline fires first)', async () => {
    sim.setFault({ kind: 'slow', delayMs: 700 });
    const t0 = Date.now();
    const r = await call(sim, 'GET', '/redfish/v1');
    expect(r.status).to.equal(200);
    expect(Date.now() - t0).to.be.at.least(650);
    const timedOut = await call(sim, 'GET', '/redfish/v1', { timeoutMs: 200 }).then(
      () => 'answered',
      (e: Error) => e.message,
    );
    expect(timedOut).to.equal('client timeout');
  });

  it('wrong-password: the configured password and existing sessions get 401', async () => {
    const login = await call(sim, 'POST', '/redfish/v1/SessionService/Sessions', {
      body: { UserName: AUTH[0], Password: AUTH[1] },
    });
    const token = login.headers['x-auth-token'] as string;
    sim.setFault({ kind: 'wrong-password' });
    expect((await call(sim, 'GET', '/redfish/v1/Systems', { basic: AUTH })).status).to.equal(401);
    expect((await call(sim, 'GET', '/redfish/v1/Systems', { token })).status).to.equal(401);
    const relogin = await call(sim, 'POST', '/redfish/v1/SessionService/Sessions', {
      body: { UserName: AUTH[0], Password: AUTH[1] },
    });
    expect(relogin.status).to.equal(401);
    sim.setFault(null);
    expect((await call(sim, 'GET', '/redfish/v1/Systems', { basic: AUTH })).status).to.equal(200);
  });

  it('busy-503: 503 with Retry-After and a ServiceTemporarilyUnavailable body; no reset is taken', async () => {
    sim.setFault({ kind: 'busy-503' });
    const r = await call(sim, 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', {
      basic: AUTH,
      body: { ResetType: 'ForceOff' },
    });
    expect([r.status, r.headers['retry-after'], messageId(r)]).to.deep.equal([
      503,
      '2',
      'Base.1.8.ServiceTemporarilyUnavailable',
    ]);
    expect(sim.resets).to.have.length(0);
  });

  it('busy-503 with maxPerSecond: requests beyond the rate in one second get 503, the next second is served', async () => {
    let now = Date.now(); // a clock that stands still unless the test moves it
    const clock = { now: () => now, setTimeout, clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
    const busy = new RedfishSim({ username: AUTH[0], password: AUTH[1], clock });
    await busy.start();
    try {
      busy.setFault({ kind: 'busy-503', maxPerSecond: 3 });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await call(busy, 'GET', '/redfish/v1')).status);
      expect(statuses).to.deep.equal([200, 200, 200, 503, 503]);
      now += 1000;
      expect((await call(busy, 'GET', '/redfish/v1')).status).to.equal(200);
    } finally {
      await busy.close();
    }
  });

  it('malformed-json: status 200 and a JSON content type, but a body that does not parse', async () => {
    sim.setFault({ kind: 'malformed-json' });
    const r = await call(sim, 'GET', '/redfish/v1/Systems/1', { basic: AUTH });
    expect(r.status).to.equal(200);
    expect(r.headers['content-type']).to.match(/^application\/json/);
    expect(r.text.length).to.be.greaterThan(0);
    expect(() => JSON.parse(r.text) as unknown).to.throw(SyntaxError);
  });

  it('counts requests and connections', async () => {
    await call(sim, 'GET', '/redfish/v1');
    await call(sim, 'GET', '/redfish/v1');
    expect(sim.stats).to.deep.include({ requests: 2, connections: 2 });
  });
});
