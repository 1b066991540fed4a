import { expect } from 'chai';
import { connect } from 'node:net';
import { MAX_BODY_BYTES } from '@hafence/operator';
import { ALICE_TOKEN, startApiRig, type ApiRig } from './api-rig.js';

describe('operator API: limits and bad requests', () => {
  let rig: ApiRig;
  beforeEach(async () => {
    rig = await startApiRig();
  });
  afterEach(async () => rig.close());

  it('answers 404 with the error body for an unknown route', async () => {
    const a = await rig.call('GET', '/api/v1/nothing');
    expect(a.status).to.equal(404);
    expect(a.json.error.code).to.equal('not-found');
  });

  it('answers 405 naming the allowed method for a known path', async () => {
    const a = await rig.call('DELETE', '/api/v1/server');
    expect(a.status).to.equal(405);
    expect(a.headers.allow).to.equal('GET');
  });

  it('answers 413 to a body over 16 KiB, declared or streamed', async () => {
    const big = JSON.stringify({ scope: 'global', reason: 'x'.repeat(MAX_BODY_BYTES) });
    const declared = await rig.call('POST', '/api/v1/fencing/resume', { body: big });
    expect(declared.status).to.equal(413);
    expect(declared.json.error.code).to.equal('payload-too-large');
    const streamed = await rig.call('POST', '/api/v1/fencing/resume', {
      body: big,
      headers: { 'transfer-encoding': 'chunked' },
    });
    expect(streamed.status).to.equal(413);
  });

  it('answers 415 to a body that is not declared JSON', async () => {
    const a = await rig.call('POST', '/api/v1/fencing/resume', {
      body: 'scope=global',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(a.status).to.equal(415);
    expect(a.json.error.code).to.equal('unsupported-media-type');
  });

  it('answers 400 naming `body` for JSON that does not parse', async () => {
    const a = await rig.call('POST', '/api/v1/fencing/resume', { body: '{"scope":' });
    expect(a.status).to.equal(400);
    expect(a.json.error).to.include({ code: 'bad-request', field: 'body' });
  });

  it('answers 400 naming the field of a bad body', async () => {
    const cases: Array<[string, object, string]> = [
      ['/api/v1/fencing/resume', {}, 'scope'],
      ['/api/v1/fencing/resume', { scope: 7 }, 'scope'],
      ['/api/v1/fencing/resume', { scope: 'global', reason: 'r'.repeat(201) }, 'reason'],
      ['/api/v1/fencing/resume', { scope: 'global', extra: 1 }, 'extra'],
      ['/api/v1/partitions/c1/ha', { enabled: 'yes' }, 'enabled'],
      ['/api/v1/resources/h1/maintenance', { on: 1 }, 'on'],
      ['/api/v1/resources/h1/maintenance', { on: true, reason: 'a\nb' }, 'reason'],
    ];
    for (const [path, body, field] of cases) {
      const a = await rig.call('POST', path, { body });
      expect(a.status, `${path} ${JSON.stringify(body)}`).to.equal(400);
      expect(a.json.error, `${path} ${JSON.stringify(body)}`).to.include({ code: 'bad-request', field });
    }
  });

  it('answers 400 naming the field of a bad query', async () => {
    const cases: Array<[string, string]> = [
      ['/api/v1/resources?state=ASLEEP', 'state'],
      ['/api/v1/events?limit=0', 'limit'],
      ['/api/v1/events?limit=1001', 'limit'],
      ['/api/v1/events?after=-1', 'after'],
      ['/api/v1/events?after=abc', 'after'],
    ];
    for (const [path, field] of cases) {
      const a = await rig.call('GET', path);
      expect(a.status, path).to.equal(400);
      expect(a.json.error, path).to.include({ code: 'bad-request', field });
    }
  });

  it('closes a connection that sends no complete headers (headersTimeout)', async function () {
    this.timeout(20_000);
    const socket = connect(rig.api.address.port, '127.0.0.1').resume();
    socket.write(`GET /api/v1/server HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ALICE_TOKEN}\r\n`);
    const started = process.hrtime.bigint();
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(ms).to.be.within(4_000, 12_000);
  });
});
