import { expect } from 'chai';
import type { StatusSnapshot } from '@hafence/operator';
import { startApiRig, type ApiRig } from './api-rig.js';
import { openStream, type SseStream } from './sse-client.js';

describe('operator API: metrics, status page and the connection cap', () => {
  let rig: ApiRig | undefined;
  const streams: SseStream[] = [];
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    await rig?.close();
    rig = undefined;
  });

  it('serves /metrics from the provider and / from the renderer with the engine snapshot', async () => {
    let seen: StatusSnapshot | undefined;
    rig = await startApiRig({
      options: {
        metrics: { contentType: 'text/plain; version=0.0.4; charset=utf-8', metrics: async () => 'hafence_up 1\n' },
        page: {
          renderPage: (s) => {
            seen = s;
            return `<html>${s.resources.length} hosts</html>`;
          },
          assets: { 'status.js': { type: 'text/javascript; charset=utf-8', body: 'void 0;' } },
        },
      },
    });
    const m = await rig.call('GET', '/metrics');
    expect([m.status, m.headers['content-type'], m.text]).to.deep.equal([
      200,
      'text/plain; version=0.0.4; charset=utf-8',
      'hafence_up 1\n',
    ]);
    const page = await rig.call('GET', '/');
    expect([page.status, page.headers['content-type'], page.text]).to.deep.equal([
      200,
      'text/html; charset=utf-8',
      '<html>3 hosts</html>',
    ]);
    expect(page.headers['content-security-policy']).to.match(/default-src 'self'/);
    expect(seen!.server.msId).to.equal('ms-test');
    expect(seen!.partitions.map((p) => p.id)).to.include('c1');
    const js = await rig.call('GET', '/status.js');
    expect([js.status, js.text]).to.deep.equal([200, 'void 0;']);
    expect((await rig.call('GET', '/', { token: null })).status, 'the page needs credentials too').to.equal(401);
  });

  it('answers 404 for /metrics and / when the server has none', async () => {
    rig = await startApiRig();
    expect((await rig.call('GET', '/metrics')).status).to.equal(404);
    expect((await rig.call('GET', '/')).status).to.equal(404);
  });

  it('caps open connections: with every place serving a stream, a new connection is closed', async () => {
    rig = await startApiRig({ options: { limits: { maxConnections: 2, maxConnectionsPerAddress: 2 } } });
    for (let i = 0; i < 2; i++) streams.push(await openStream(rig.api.address.port));
    expect(streams.map((s) => s.status)).to.deep.equal([200, 200]);
    const third = await rig.call('GET', '/api/v1/server').then(
      (a) => a.status,
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(third).to.equal('ECONNRESET');
  });
});
