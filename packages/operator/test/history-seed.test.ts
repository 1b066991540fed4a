import { expect } from 'chai';
import { Secret, type LogFields } from '@hafence/core';
import { createFakeCluster } from '@hafence/testkit';
import { startOperatorServer } from '@hafence/operator';
import { ALICE_TOKEN, call } from './api-rig.js';

const MINUTE = 60_000;

describe('operator API: a server started after the events', () => {
  it('seeds the recent transitions and releases from the stored history', async () => {
    const c = await createFakeCluster({ hosts: 3 });
    await c.clock.advance(5 * MINUTE);
    c.provider.host('h2').crashed = true;
    await c.clock.advance(30 * MINUTE);
    const expected = c.events
      .filter((e) => e.type === 'resource.transition' && e.resource === 'h2')
      .map((e) => e.type === 'resource.transition' && { t: e.t, from: e.from, to: e.to, reason: e.reason });
    expect(expected.length).to.be.greaterThan(2);
    const lines: Array<[string, LogFields | undefined]> = [];
    const log = (m: string, f?: LogFields) => lines.push([m, f]);
    const api = await startOperatorServer({
      service: c.service,
      store: c.store,
      listen: { host: '127.0.0.1', port: 0 },
      auth: { tokens: [{ name: 'alice', token: new Secret(ALICE_TOKEN) }] },
      msId: 'ms',
      version: '0',
      clock: c.clock,
      logger: { debug: log, info: log, warn: log, error: log },
    });
    try {
      let got: any;
      for (let i = 0; i < 100 && got?.transitions?.length !== expected.length; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 20)); // the seeding reads the store after listen
        got = (await call(api.address.port, 'GET', '/api/v1/resources/h2')).json;
      }
      expect(got.transitions).to.deep.equal(expected);
      expect(got.releases.length).to.be.greaterThan(0);
      const refused = await call(api.address.port, 'GET', '/api/v1/server', { token: `${ALICE_TOKEN}-wrong` });
      expect(refused.status).to.equal(401);
      expect(lines.length, 'the refusal is logged').to.be.greaterThan(0);
      expect(JSON.stringify(lines)).not.to.include(ALICE_TOKEN);
    } finally {
      await api.close();
      await c.close();
    }
  });
});
