import { expect } from 'chai';
import { Secret } from '@hafence/core';
import { createFakeCluster } from '@hafence/testkit';
import { createMetrics, startOperatorServer } from '@hafence/operator';
import { ALICE_TOKEN, call } from './api-rig.js';
import { parsePromText, sampleValue } from './helpers/prom-text.js';

describe('GET /metrics over real HTTP (HaMetrics behind the operator server)', () => {
  it('serves the text format, authenticated, with the figures of a crash and recovery', async () => {
    const cluster = await createFakeCluster({ hosts: 4 });
    const metrics = createMetrics(cluster.service);
    const api = await startOperatorServer({
      service: cluster.service,
      store: cluster.store,
      listen: { host: '127.0.0.1', port: 0 },
      auth: { tokens: [{ name: 'alice', token: new Secret(ALICE_TOKEN) }] },
      msId: 'ms-test',
      version: '0.1.0-test',
      clock: cluster.clock,
      metrics,
    });
    try {
      cluster.provider.host('h2').crashed = true;
      await cluster.clock.advance(30 * 60_000);
      const refused = await call(api.address.port, 'GET', '/metrics', { token: null });
      expect(refused.status).to.equal(401);
      expect(refused.text).not.to.contain('hafence_');
      const answer = await call(api.address.port, 'GET', '/metrics');
      expect(answer.status).to.equal(200);
      expect(answer.headers['content-type']).to.equal(metrics.contentType);
      const f = parsePromText(answer.text);
      expect(sampleValue(f, 'hafence_resources', { partition: 'c1', state: 'AVAILABLE' })).to.equal(4);
      expect(sampleValue(f, 'hafence_releases_total', { proof: 'power-off' })).to.equal(1);
      expect(sampleValue(f, 'hafence_power_commands_total', { driver: 'fake', action: 'off', result: 'ok' })).to.equal(
        1,
      );
    } finally {
      await api.close();
      metrics.close();
      await cluster.close();
    }
  });
});
