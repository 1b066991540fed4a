import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import { startApiRig, type ApiRig } from './api-rig.js';

/** Opens `n` TCP connections that send nothing; resolves once all are connected. */
function idle(port: number, n: number): Promise<Socket[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Socket>((resolve) => {
          const s = connect(port, '127.0.0.1', () => resolve(s)).on('error', () => resolve(s));
        }),
    ),
  );
}

const closed = (s: Socket) => s.destroyed || s.readableEnded;

describe('operator API: hostile clients', () => {
  let rig: ApiRig;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await rig.close();
  });

  it('at the per-address cap the oldest idle connection of that address makes room: an operator still gets in', async () => {
    rig = await startApiRig({ options: { limits: { maxConnections: 64, maxConnectionsPerAddress: 4 } } });
    const flood = await idle(rig.api.address.port, 6);
    sockets.push(...flood);
    await new Promise((r) => setTimeout(r, 200));
    expect(flood.map(closed), 'the two oldest evicted').to.deep.equal([true, true, false, false, false, false]);
    const a = await rig.call('GET', '/api/v1/server');
    expect(a.status).to.equal(200);
  });

  it('closes a connection that sends no byte within the 5 s header limit', async function () {
    this.timeout(20_000);
    rig = await startApiRig();
    const [s] = await idle(rig.api.address.port, 1);
    sockets.push(s!);
    const started = process.hrtime.bigint();
    await new Promise<void>((resolve) => s!.resume().once('close', () => resolve()));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(ms).to.be.within(4_000, 8_000);
  });

  it('refuses format (bidi) characters and lone surrogates in free text with 400 naming the field', async () => {
    rig = await startApiRig();
    const bad = ['ok \u202Egnp.exe', 'a\u2066b', 'a\u200Fb', 'zero\u200Bwidth', 'x\uD800y', 'x\uDC00'];
    for (const text of bad) {
      const cases: Array<[string, object, string]> = [
        ['/api/v1/resources/h1/maintenance', { on: false, reason: text }, 'reason'],
        ['/api/v1/partitions/c1/ha', { enabled: true, reason: text }, 'reason'],
        ['/api/v1/fencing/resume', { scope: 'global', reason: text }, 'reason'],
        ['/api/v1/fencing/resume', { scope: text }, 'scope'],
      ];
      for (const [path, body, field] of cases) {
        const a = await rig.call('POST', path, { body });
        expect([a.status, a.json?.error?.field], `${path} ${JSON.stringify(body)}`).to.deep.equal([400, field]);
      }
      if (!/[\uD800-\uDFFF]/.test(text)) {
        // a query string is UTF-8: a lone surrogate cannot arrive in one (it decodes to U+FFFD)
        const q = await rig.call('GET', `/api/v1/resources?partition=${encodeURIComponent(text)}`);
        expect([q.status, q.json?.error?.field], JSON.stringify(text)).to.deep.equal([400, 'partition']);
      }
    }
    const ok = await rig.call('POST', '/api/v1/resources/h1/maintenance', {
      body: { on: false, reason: 'Ünïcödé ok – 😀' },
    });
    expect(ok.status, ok.text).to.equal(200);
  });

  it('answers 404 to a path with an empty segment, wherever it is', async () => {
    rig = await startApiRig();
    for (const path of [
      '/api/v1//server',
      '//api/v1/server',
      '/api/v1/server/',
      '/api//v1/server',
      '/api/v1/x/../server',
    ])
      expect((await rig.call('GET', path)).status, path).to.equal(404);
    expect((await rig.call('GET', '/api/v1/server')).status).to.equal(200);
  });
});
