import { expect } from 'chai';
import { Secret, type PowerTarget } from '@hafence/core';
import { RedfishPowerDriver } from '@hafence/power-redfish';
import { ScriptedBmc, sessionlessRoutes, type Routes } from './helpers/scripted-bmc.js';

const PW = 'corner-pw-3';
const call = (ms = 3000) => ({ signal: AbortSignal.timeout(ms + 2000), timeoutMs: ms });
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: { code?: string }) => e.code ?? 'untyped',
  );

describe('RedfishPowerDriver protocol corners (a scripted HTTPS BMC)', function () {
  this.timeout(20_000);
  let bmc: ScriptedBmc;
  const drivers: RedfishPowerDriver[] = [];
  const target = (): PowerTarget => ({
    host: 'corner',
    address: '127.0.0.1',
    port: bmc.port,
    username: 'admin',
    password: new Secret(PW),
  });
  const driver = (o: ConstructorParameters<typeof RedfishPowerDriver>[0] = {}) => {
    const d = new RedfishPowerDriver({ ca: bmc.certPem, taskPollMs: 20, ...o });
    drivers.push(d);
    return d;
  };
  const serve = async (routes: Routes) => {
    bmc = new ScriptedBmc(routes);
    await bmc.start();
  };

  afterEach(async () => {
    await Promise.all(drivers.splice(0).map((d) => d.close()));
    await bmc.close();
  });

  it('a service without sessions: refused unless basicAuth is enabled, then HTTP Basic', async () => {
    await serve(sessionlessRoutes());
    expect(await codeOf(driver().status(target(), call()))).to.equal('HAF1004');
    expect(await driver({ basicAuth: true }).status(target(), call())).to.equal('ON');
    const basic = bmc.seen.find((r) => r.path === '/redfish/v1/Systems/1')!;
    expect(Buffer.from(basic.headers.authorization!.slice(6), 'base64').toString()).to.equal(`admin:${PW}`);
  });

  it('links with a #fragment are followed without it; a non-ASCII @odata.id is a ProtocolError, not unreachable', async () => {
    const routes = sessionlessRoutes();
    const system = routes['GET /redfish/v1/Systems/1']!;
    await serve({
      ...routes,
      'GET /redfish/v1/Systems': () => ({
        status: 200,
        body: { Members: [{ '@odata.id': '/redfish/v1/Systems/1#/Members/0' }] },
      }),
    });
    expect(await driver({ basicAuth: true }).status(target(), call())).to.equal('ON');
    expect(bmc.seen.map((r) => r.path)).to.include('/redfish/v1/Systems/1');
    expect(bmc.seen.filter((r) => r.path.includes('#'))).to.deep.equal([]);
    bmc.routes = {
      ...routes,
      'GET /redfish/v1/Systems': () => ({ status: 200, body: { Members: [{ '@odata.id': '/redfish/v1/Systems/é' }] } }),
      'GET /redfish/v1/Systems/%C3%A9': system,
    };
    expect(await codeOf(driver({ basicAuth: true }).status(target(), call()))).to.equal('HAF1004');
  });

  it('a session token the BMC forgot is replaced by a new login, once; close() deletes the session', async () => {
    let logins = 0;
    let valid = '';
    const authed = (ok: unknown) => (req: { headers: Record<string, unknown> }) =>
      req.headers['x-auth-token'] === valid ? { status: 200, body: ok } : { status: 401, body: {} };
    await serve({
      'GET /redfish/v1': {
        status: 200,
        body: {
          Systems: { '@odata.id': '/redfish/v1/Systems' },
          Links: { Sessions: { '@odata.id': '/redfish/v1/S' } },
        },
      },
      'POST /redfish/v1/S': (req) => {
        expect(JSON.parse(req.body)).to.deep.equal({ UserName: 'admin', Password: PW });
        valid = `tok-${++logins}`;
        return { status: 201, headers: { 'X-Auth-Token': valid, Location: `/redfish/v1/S/${logins}` }, body: {} };
      },
      'GET /redfish/v1/Systems': authed({ Members: [{ '@odata.id': '/redfish/v1/Systems/1' }] }),
      'GET /redfish/v1/Systems/1': authed({ PowerState: 'Off' }),
      'DELETE /redfish/v1/S/2': { status: 204 },
    });
    const d = driver();
    expect(await d.status(target(), call())).to.equal('OFF');
    expect(await d.status(target(), call())).to.equal('OFF');
    expect(logins).to.equal(1);
    valid = 'forgotten'; // the BMC drops the session behind the driver's back
    expect(await d.status(target(), call())).to.equal('OFF');
    expect(logins).to.equal(2);
    await d.close();
    expect(bmc.seen.at(-1)).to.deep.include({ method: 'DELETE', path: '/redfish/v1/S/2' });
    expect(bmc.seen.at(-1)?.headers['x-auth-token']).to.equal('tok-2');
  });

  it('a task monitor that ends in Exception is a DriverError; one that never ends a TimeoutError', async () => {
    let polls = 0;
    const routes = sessionlessRoutes();
    await serve({
      ...routes,
      'POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset': (req) =>
        req.headers.authorization
          ? { status: 202, headers: { Location: 'https://elsewhere.example/redfish/v1/TaskMonitors/7' } }
          : { status: 401 },
      'GET /redfish/v1/TaskMonitors/7': () =>
        ++polls < 3
          ? { status: 202, body: { TaskState: 'Running' } }
          : {
              status: 200,
              body: { TaskState: 'Exception', Messages: [{ MessageId: 'Base.1.8.InternalError', Message: 'x' }] },
            },
    });
    const d = driver({ basicAuth: true });
    const err = await d.control(target(), 'off', call()).catch((e: unknown) => e);
    expect((err as { code?: string }).code).to.equal('HAF1006');
    expect((err as Error).message).to.include('Base.1.8.InternalError');
    // the monitor's absolute link to another host was followed on this BMC only
    expect(bmc.seen.filter((r) => r.path === '/redfish/v1/TaskMonitors/7')).to.have.length(3);

    bmc.routes['GET /redfish/v1/TaskMonitors/7'] = { status: 202, body: { TaskState: 'Running' } };
    const started = Date.now();
    expect(await codeOf(d.control({ ...target(), options: { taskTimeoutMs: 300 } }, 'off', call()))).to.equal(
      'HAF1002',
    );
    expect(Date.now() - started).to.be.lessThan(2000);
  });

  it('a reset the BMC answers with 400 ActionParameterValueNotInList is an UnsupportedOperationError', async () => {
    await serve({
      ...sessionlessRoutes(),
      'POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset': {
        status: 400,
        body: { error: { '@Message.ExtendedInfo': [{ MessageId: 'Base.1.8.ActionParameterValueNotInList' }] } },
      },
    });
    expect(await codeOf(driver({ basicAuth: true }).control(target(), 'off', call()))).to.equal('HAF1005');
  });

  it('several systems and no systemId: a ProtocolError naming them; 5xx bodies that are not JSON keep the status', async () => {
    await serve({
      ...sessionlessRoutes(),
      'GET /redfish/v1/Systems': {
        status: 200,
        body: { Members: [{ '@odata.id': '/redfish/v1/Systems/a' }, { '@odata.id': '/redfish/v1/Systems/b' }] },
      },
    });
    const err = await driver({ basicAuth: true })
      .status(target(), call())
      .catch((e: unknown) => e);
    expect((err as { code?: string }).code).to.equal('HAF1004');
    expect((err as Error).message)
      .to.include('/redfish/v1/Systems/b')
      .and.include('systemId');
    bmc.routes['GET /redfish/v1'] = { status: 500, body: 'not json <html>' };
    expect(await codeOf(driver({ basicAuth: true }).status(target(), call()))).to.equal('HAF1004');
  });
});
