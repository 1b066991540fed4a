import { X509Certificate } from 'node:crypto';
import { expect } from 'chai';
import { ConfigError } from '@hafence/core';
import { RedfishSim, REDFISH_VARIANTS, redfishVariantProfile, type RedfishSimOptions } from '@hafence/sim';
import { call, eventually, messageId, sleep } from './redfish-client.js';

const USER = 'admin';
const PASSWORD = 'rf-secret-7';
const AUTH = [USER, PASSWORD] as const;

async function started(o: Partial<RedfishSimOptions> = {}): Promise<RedfishSim> {
  const sim = new RedfishSim({ username: USER, password: PASSWORD, ...o });
  await sim.start();
  return sim;
}

describe('RedfishSim: protocol over HTTPS', function () {
  this.timeout(20000);
  let sim: RedfishSim;
  beforeEach(async () => {
    sim = await started({ powerDelays: { forceOffMs: 1000, onMs: 100, gracefulShutdownMs: 2000 } });
  });
  afterEach(() => sim.close());

  it('serves a self-signed certificate for 127.0.0.1 that a client trusts as its CA, and refuses otherwise', async () => {
    const cert = new X509Certificate(sim.certPem);
    expect(cert.checkIP('127.0.0.1')).to.equal('127.0.0.1');
    expect(cert.verify(cert.publicKey)).to.equal(true);
    expect(sim.url).to.equal(`https://127.0.0.1:${sim.port}`);
    const other = new RedfishSim({ username: USER, password: PASSWORD });
    const refused = await call(sim, 'GET', '/redfish/v1', { ca: other.certPem }).then(
      () => 'accepted',
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(refused).to.match(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT_SIGNATURE_FAILURE/);
  });

  it('answers the service root and /redfish without credentials, with OData headers', async () => {
    const root = await call(sim, 'GET', '/redfish/v1/');
    expect(root.status).to.equal(200);
    expect(root.headers['odata-version']).to.equal('4.0');
    expect(root.json).to.deep.include({ '@odata.id': '/redfish/v1/', RedfishVersion: '1.15.0' });
    expect((root.json as { Systems: unknown }).Systems).to.deep.equal({ '@odata.id': '/redfish/v1/Systems' });
    expect((await call(sim, 'GET', '/redfish')).json).to.deep.equal({ v1: '/redfish/v1/' });
  });

  it('refuses a protected resource without or with wrong credentials: 401 with an error body', async () => {
    for (const basic of [undefined, [USER, 'nope'] as const, ['root', PASSWORD] as const]) {
      const r = await call(sim, 'GET', '/redfish/v1/Systems', { basic });
      expect(r.status).to.equal(401);
      expect(messageId(r)).to.equal('Base.1.8.NoValidSession');
      expect(r.headers['www-authenticate']).to.match(/^Basic/);
    }
    expect((await call(sim, 'GET', '/redfish/v1/Systems', { token: 'forged' })).status).to.equal(401);
  });

  it('walks root → Systems → system with Basic auth and reads PowerState, reset target and allowable values', async () => {
    const systems = await call(sim, 'GET', '/redfish/v1/Systems', { basic: AUTH });
    expect(systems.json).to.deep.include({ Members: [{ '@odata.id': '/redfish/v1/Systems/1' }] });
    const sys = await call(sim, 'GET', '/redfish/v1/Systems/1', { basic: AUTH });
    const doc = sys.json as Record<string, any>;
    expect(doc.PowerState).to.equal('On');
    expect(doc.Actions['#ComputerSystem.Reset'].target).to.equal('/redfish/v1/Systems/1/Actions/ComputerSystem.Reset');
    expect(doc.Actions['#ComputerSystem.Reset']['ResetType@Redfish.AllowableValues']).to.include('PowerCycle');
    expect(sys.headers.etag).to.equal(doc['@odata.etag']);
  });

  it('logs in a session (201, X-Auth-Token, Location), uses it, logs out; the token is dead after', async () => {
    const login = await call(sim, 'POST', '/redfish/v1/SessionService/Sessions', {
      body: { UserName: USER, Password: PASSWORD },
    });
    expect(login.status).to.equal(201);
    const token = login.headers['x-auth-token'] as string;
    const location = login.headers.location as string;
    expect(token).to.match(/^[0-9a-f]{32}$/);
    expect(location).to.match(/^\/redfish\/v1\/SessionService\/Sessions\/\d+$/);
    expect(sim.stats.sessionsOpen).to.equal(1);
    expect((await call(sim, 'GET', '/redfish/v1/Systems/1', { token })).status).to.equal(200);
    expect((await call(sim, 'DELETE', location, { token })).status).to.equal(204);
    expect((await call(sim, 'GET', '/redfish/v1/Systems/1', { token })).status).to.equal(401);
    expect(sim.stats).to.deep.include({ sessionsCreated: 1, sessionsOpen: 0 });
    const bad = await call(sim, 'POST', '/redfish/v1/SessionService/Sessions', {
      body: { UserName: USER, Password: 'wrong' },
    });
    expect(bad.status).to.equal(401);
    expect(bad.headers['x-auth-token']).to.equal(undefined);
  });

  it('limits sessions like a BMC: a login beyond maxSessions gets 503 SessionLimitExceeded, a logout frees a place', async () => {
    const small = await started({ maxSessions: 2 });
    try {
      const login = () =>
        call(small, 'POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: USER, Password: PASSWORD } });
      const first = await login();
      expect((await login()).status).to.equal(201);
      const third = await login();
      expect(third.status).to.equal(503);
      expect(messageId(third)).to.equal('Base.1.8.SessionLimitExceeded');
      expect(third.headers['x-auth-token']).to.equal(undefined);
      const token = first.headers['x-auth-token'] as string;
      expect((await call(small, 'DELETE', first.headers.location as string, { token })).status).to.equal(204);
      expect((await login()).status).to.equal(201);
      expect(small.stats).to.deep.include({ sessionsCreated: 3, sessionsOpen: 2, sessionsPeak: 2 });
    } finally {
      await small.close();
    }
  });

  it('ForceOff answers 204 before the power lands; GracefulShutdown takes its time; On comes back', async () => {
    const reset = (ResetType: string) =>
      call(sim, 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { basic: AUTH, body: { ResetType } });
    expect((await reset('ForceOff')).status).to.equal(204);
    expect(sim.powerState()).to.equal('On');
    const during = (await call(sim, 'GET', '/redfish/v1/Systems/1', { basic: AUTH })).json as { PowerState: string };
    expect(during.PowerState).to.equal('PoweringOff');
    expect(await eventually(() => sim.powerState() === 'Off')).to.equal(true);
    expect((await reset('On')).status).to.equal(204);
    expect(await eventually(() => sim.powerState() === 'On')).to.equal(true);
    expect((await reset('GracefulShutdown')).status).to.equal(204);
    await sleep(300);
    expect(sim.powerState()).to.equal('On');
    expect(await eventually(() => sim.powerState() === 'Off')).to.equal(true);
    expect(sim.resets.map((r) => r.resetType)).to.deep.equal(['ForceOff', 'On', 'GracefulShutdown']);
  });

  it('rejects bad reset requests with the right 4xx and a MessageId, changing nothing', async () => {
    const post = (body: string) =>
      call(sim, 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { basic: AUTH, body });
    const cases: Array<[string, number, string]> = [
      ['{"ResetType":"Explode"}', 400, 'Base.1.8.ActionParameterValueNotInList'],
      ['{"ResetType":7}', 400, 'Base.1.8.ActionParameterValueTypeError'],
      ['{}', 400, 'Base.1.8.ActionParameterMissing'],
      ['', 400, 'Base.1.8.ActionParameterMissing'],
      ['{"ResetType":', 400, 'Base.1.8.MalformedJSON'],
      ['[1,2]', 400, 'Base.1.8.MalformedJSON'],
      [JSON.stringify({ ResetType: 'On', pad: 'x'.repeat(70_000) }), 413, 'Base.1.8.PayloadTooLarge'],
    ];
    for (const [body, status, id] of cases) {
      const r = await post(body);
      expect([r.status, messageId(r)], body.slice(0, 40)).to.deep.equal([status, id]);
    }
    expect(
      (await call(sim, 'GET', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { basic: AUTH })).status,
    ).to.equal(405);
    expect((await call(sim, 'GET', '/redfish/v1/Systems/9', { basic: AUTH })).status).to.equal(404);
    expect(sim.resets).to.have.length(0);
    expect((await call(sim, 'GET', '/redfish/v1', {})).status).to.equal(200); // still serving
  });

  it('serves Managers, Chassis, SessionService, AccountService and TaskService', async () => {
    for (const path of [
      '/redfish/v1/Managers/BMC',
      '/redfish/v1/Chassis/1',
      '/redfish/v1/SessionService',
      '/redfish/v1/AccountService/Accounts/1',
      '/redfish/v1/TaskService/Tasks',
    ]) {
      const r = await call(sim, 'GET', path, { basic: AUTH });
      expect([path, r.status]).to.deep.equal([path, 200]);
      expect((r.json as { '@odata.id': string })['@odata.id']).to.equal(path);
    }
  });
});

describe('RedfishSim: vendor variants', function () {
  this.timeout(20000);
  for (const variant of REDFISH_VARIANTS) {
    it(`${variant}: system id, allowable values (or ActionInfo) and reset reply of its profile`, async () => {
      const p = redfishVariantProfile(variant);
      const sim = await started({ variant, powerDelays: { forceOffMs: 50, onMs: 50 } });
      try {
        expect(sim.systemId).to.equal(p.systemId);
        const sys = (await call(sim, 'GET', sim.systemUri, { basic: AUTH })).json as Record<string, any>;
        const action = sys.Actions['#ComputerSystem.Reset'];
        if (p.resetTypesIn === 'allowable-values') {
          expect(action['ResetType@Redfish.AllowableValues']).to.deep.equal(p.resetTypes);
          expect(action['@Redfish.ActionInfo']).to.equal(undefined);
        } else {
          expect(action['ResetType@Redfish.AllowableValues']).to.equal(undefined);
          const info = (await call(sim, 'GET', action['@Redfish.ActionInfo'] as string, { basic: AUTH })).json as any;
          expect(info.Parameters).to.deep.equal([
            { Name: 'ResetType', Required: true, DataType: 'String', AllowableValues: p.resetTypes },
          ]);
        }
        const r = await call(sim, 'POST', action.target as string, { basic: AUTH, body: { ResetType: 'ForceOff' } });
        expect(r.status).to.equal({ 'no-content': 204, 'ok-message': 200, task: 202 }[p.resetReply]);
        expect(await eventually(() => sim.powerState() === 'Off')).to.equal(true);
        const missing = ['PowerCycle', 'ForceOn'].find((t) => !p.resetTypes.includes(t));
        if (missing) {
          const no = await call(sim, 'POST', action.target as string, { basic: AUTH, body: { ResetType: missing } });
          expect(no.status).to.equal(400);
        }
      } finally {
        await sim.close();
      }
    });
  }

  it('supermicro: the reset is a task monitor answering 202 until the power lands, then 200 Completed', async () => {
    const sim = await started({ variant: 'supermicro', powerDelays: { forceOffMs: 1500 } });
    try {
      const r = await call(sim, 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', {
        basic: AUTH,
        body: { ResetType: 'ForceOff' },
      });
      expect(r.status).to.equal(202);
      const monitor = r.headers.location as string;
      expect(monitor).to.match(/^\/redfish\/v1\/TaskService\/Tasks\/\d+$/);
      expect(r.headers['retry-after']).to.equal('1');
      const running = await call(sim, 'GET', monitor, { basic: AUTH });
      expect([running.status, (running.json as { TaskState: string }).TaskState]).to.deep.equal([202, 'Running']);
      expect(await eventually(() => sim.powerState() === 'Off')).to.equal(true);
      const done = await call(sim, 'GET', monitor, { basic: AUTH });
      expect([done.status, (done.json as { TaskState: string }).TaskState]).to.deep.equal([200, 'Completed']);
    } finally {
      await sim.close();
    }
  });

  it('hpe: PATCH needs If-Match with the current ETag (428 without, 412 stale, 200 current)', async () => {
    const sim = await started({ variant: 'hpe' });
    try {
      const patch = (headers: Record<string, string>) =>
        call(sim, 'PATCH', '/redfish/v1/Systems/1', { basic: AUTH, body: { AssetTag: 'rack-7' }, headers });
      expect((await patch({})).status).to.equal(428);
      expect((await patch({ 'If-Match': 'W/"0000"' })).status).to.equal(412);
      const etag = (await call(sim, 'GET', '/redfish/v1/Systems/1', { basic: AUTH })).headers.etag as string;
      const ok = await patch({ 'If-Match': etag });
      expect([ok.status, (ok.json as { AssetTag: string }).AssetTag]).to.deep.equal([200, 'rack-7']);
      expect((await patch({ 'If-Match': etag })).status).to.equal(412); // the ETag changed with the tag
      const reset = await call(sim, 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', {
        basic: AUTH,
        body: { ResetType: 'Nmi' },
      });
      expect([reset.status, messageId(reset)]).to.deep.equal([200, 'Base.1.4.Success']);
    } finally {
      await sim.close();
    }
  });

  it('basicAuth: false refuses Basic credentials but accepts sessions', async () => {
    const sim = await started({ basicAuth: false });
    try {
      expect((await call(sim, 'GET', '/redfish/v1/Systems', { basic: AUTH })).status).to.equal(401);
      const login = await call(sim, 'POST', '/redfish/v1/SessionService/Sessions', {
        body: { UserName: USER, Password: PASSWORD },
      });
      const token = login.headers['x-auth-token'] as string;
      expect((await call(sim, 'GET', '/redfish/v1/Systems', { token })).status).to.equal(200);
    } finally {
      await sim.close();
    }
  });

  it('bad options are a ConfigError naming each field, never showing the password', () => {
    let caught: unknown;
    try {
      new RedfishSim({ username: '', password: '', port: 70000, variant: 'ibm' as never, powerDelays: { onMs: -1 } });
    } catch (e) {
      caught = e;
    }
    expect(caught).to.be.instanceOf(ConfigError);
    const paths = (caught as ConfigError).issues.map((i) => i.path);
    expect(paths).to.deep.equal(['username', 'password', 'port', 'variant', 'powerDelays.onMs']);
    expect(() => new RedfishSim({ username: 'a', password: 'hunter2', port: -1 }))
      .to.throw(ConfigError)
      .that.satisfies((e: Error) => !e.message.includes('hunter2'));
  });
});
