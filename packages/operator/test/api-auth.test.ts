import { expect } from 'chai';
import { Secret } from '@hafence/core';
import { makeTestPki } from '@hafence/testkit';
import { startOperatorServer } from '@hafence/operator';
import { ALICE_TOKEN, BOB_TOKEN, startApiRig, type ApiRig } from './api-rig.js';
import { request as httpsRequest } from 'node:https';

const basic = (name: string, token: string) => `Basic ${Buffer.from(`${name}:${token}`).toString('base64')}`;

describe('operator API: authentication', () => {
  let rig: ApiRig;
  beforeEach(async () => {
    rig = await startApiRig();
  });
  afterEach(async () => rig.close());

  it('answers 401 with the error body and a Basic challenge without credentials', async () => {
    const a = await rig.call('GET', '/api/v1/server', { token: null });
    expect(a.status).to.equal(401);
    expect(a.json).to.deep.equal({ error: { code: 'unauthorized', message: a.json.error.message } });
    expect(a.headers['www-authenticate']).to.match(/^Basic realm="hafence"/);
  });

  it('answers 401 to a wrong bearer token, and never echoes it', async () => {
    const wrong = `${ALICE_TOKEN}x`;
    const a = await rig.call('GET', '/api/v1/server', { token: wrong });
    expect(a.status).to.equal(401);
    expect(a.text).not.to.include(wrong);
  });

  it('answers 401 before routing: an unknown route is not revealed', async () => {
    expect((await rig.call('GET', '/api/v1/nothing', { token: null })).status).to.equal(401);
  });

  it('accepts a bearer token of any identity', async () => {
    expect((await rig.call('GET', '/api/v1/server')).status).to.equal(200);
    expect((await rig.call('GET', '/api/v1/server', { token: BOB_TOKEN })).status).to.equal(200);
  });

  it('accepts Basic NAME:TOKEN, and refuses a good token under another NAME or a wrong token', async () => {
    const ok = await rig.call('GET', '/api/v1/server', {
      token: null,
      headers: { authorization: basic('alice', ALICE_TOKEN) },
    });
    expect(ok.status).to.equal(200);
    const otherName = await rig.call('GET', '/api/v1/server', {
      token: null,
      headers: { authorization: basic('bob', ALICE_TOKEN) },
    });
    expect(otherName.status).to.equal(401);
    const wrong = await rig.call('GET', '/api/v1/server', {
      token: null,
      headers: { authorization: basic('alice', 'not-the-token-0123456789abcdef0123') },
    });
    expect(wrong.status).to.equal(401);
    const garbage = await rig.call('GET', '/api/v1/server', { token: null, headers: { authorization: 'Basic !!!' } });
    expect(garbage.status).to.equal(401);
  });

  it('answers GET /api/v1/server with the server facts', async () => {
    const a = await rig.call('GET', '/api/v1/server');
    expect(a.headers['content-type']).to.equal('application/json; charset=utf-8');
    expect(a.json).to.deep.equal({
      msId: 'ms-test',
      observeOnly: false,
      version: '0.1.0-test',
      startedAt: a.json.startedAt,
      now: rig.cluster.clock.now(),
    });
  });
});

describe('operator API: start-up', () => {
  it('refuses to start without any way to authenticate', async () => {
    const err = await startOperatorServer({
      service: { events$: { subscribe: () => ({ unsubscribe() {} }) } } as never,
      store: { listEvents: async () => [] },
      listen: { host: '127.0.0.1', port: 0 },
      auth: {},
      msId: 'm',
      version: '0',
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as { code?: string }).code).to.equal('HAF2001');
  });
});

describe('operator API: TLS client certificates', () => {
  it('takes the identity from the certificate and refuses a client without one', async function () {
    const pki = makeTestPki();
    const rig = await startApiRig({
      options: {
        auth: { tls: { cert: pki.server.cert, key: new Secret(pki.server.key), clientCa: pki.ca } },
      },
    });
    try {
      const get = (cert?: { cert: string; key: string }) =>
        new Promise<number>((resolve, reject) => {
          const req = httpsRequest(
            { host: '127.0.0.1', port: rig.api.address.port, path: '/api/v1/server', ca: pki.ca, ...cert },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on('error', reject);
          req.end();
        });
      expect(rig.api.protocol).to.equal('https');
      expect(await get(pki.client)).to.equal(200);
      const without = await get().then(
        (s) => s,
        (e: NodeJS.ErrnoException) => e.code ?? 'error',
      );
      expect(without).not.to.equal(200);
    } finally {
      await rig.close();
      pki.remove();
    }
  });
});
