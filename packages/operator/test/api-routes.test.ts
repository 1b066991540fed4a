import { expect } from 'chai';
import { BOB_TOKEN, startApiRig, type ApiRig } from './api-rig.js';

const MINUTE = 60_000;

describe('operator API: routes over a real engine', () => {
  let rig: ApiRig;
  beforeEach(async () => {
    rig = await startApiRig({ hosts: 3 });
    await rig.cluster.clock.advance(5 * MINUTE); // every host AVAILABLE
  });
  afterEach(async () => rig.close());

  it('GET /api/v1/partitions: the read model and the fence budgets', async () => {
    const a = await rig.call('GET', '/api/v1/partitions');
    expect(a.status).to.equal(200);
    expect(a.json.partitions.map((p: { id: string }) => p.id)).to.have.members(['z1', 'p1', 'c1']);
    expect(a.json.partitions).to.deep.equal(JSON.parse(JSON.stringify(rig.cluster.service.describePartitions())));
    expect(a.json.fenceBudgets.map((b: { scope: string }) => b.scope)).to.include('global');
  });

  it('GET /api/v1/resources, filtered by state and partition', async () => {
    const all = await rig.call('GET', '/api/v1/resources');
    expect(all.json.resources.map((r: { ref: { id: string } }) => r.ref.id)).to.deep.equal(['h1', 'h2', 'h3']);
    expect(all.json.resources[0]).to.deep.equal(JSON.parse(JSON.stringify(rig.cluster.service.describeResources()[0])));
    rig.cluster.provider.host('h2').crashed = true;
    await rig.cluster.clock.advance(2 * MINUTE);
    const state = rig.cluster.service.describeResource({ type: 'host', id: 'h2' }).state;
    expect(state).not.to.equal('AVAILABLE');
    const byState = await rig.call('GET', `/api/v1/resources?state=${state}`);
    expect(byState.json.resources.map((r: { ref: { id: string } }) => r.ref.id)).to.deep.equal(['h2']);
    const available = await rig.call('GET', '/api/v1/resources?state=AVAILABLE&partition=c1');
    expect(available.json.resources.map((r: { ref: { id: string } }) => r.ref.id)).to.deep.equal(['h1', 'h3']);
    const none = await rig.call('GET', '/api/v1/resources?partition=p1');
    expect(none.json.resources).to.deep.equal([]);
  });

  it('GET /api/v1/resources/:id: the detail with its transitions (newest last) and releases', async () => {
    rig.cluster.provider.host('h2').crashed = true;
    await rig.cluster.clock.advance(30 * MINUTE); // fenced and released
    const a = await rig.call('GET', '/api/v1/resources/h2');
    expect(a.status).to.equal(200);
    const { transitions, releases, ...detail } = a.json;
    expect(detail).to.deep.equal(
      JSON.parse(JSON.stringify(rig.cluster.service.describeResource({ type: 'host', id: 'h2' }))),
    );
    const engineTransitions = rig.cluster.events
      .filter((e) => e.type === 'resource.transition' && e.resource === 'h2')
      .map((e) => e.type === 'resource.transition' && { t: e.t, from: e.from, to: e.to, reason: e.reason });
    expect(transitions).to.deep.equal(engineTransitions.slice(-20));
    expect(transitions.at(-1).to).to.equal(detail.state);
    const released = rig.cluster.events.filter((e) => e.type === 'workloads.released' && e.resource === 'h2');
    expect(released.length, 'the crash ended in a release').to.be.greaterThan(0);
    expect(releases).to.deep.equal(released.map((e) => e.type === 'workloads.released' && { t: e.t, proof: e.proof }));
    const typed = await rig.call('GET', '/api/v1/resources/host/h2');
    expect(typed.json).to.deep.equal(a.json);
  });

  it('answers 404 for an unknown resource, 404 for an unknown partition or scope', async () => {
    for (const [method, path, body] of [
      ['GET', '/api/v1/resources/nope', undefined],
      ['GET', '/api/v1/resources/vm/h1', undefined],
      ['POST', '/api/v1/resources/nope/maintenance', { on: true }],
      ['POST', '/api/v1/partitions/nope/ha', { enabled: false }],
      ['POST', '/api/v1/fencing/resume', { scope: 'nope' }],
    ] as const) {
      const a = await rig.call(method, path, { body });
      expect(a.status, path).to.equal(404);
      expect(a.json.error.code, path).to.equal('not-found');
    }
  });

  it('POST maintenance on/off: applied and audited as operator.action by the token NAME', async () => {
    const on = await rig.call('POST', '/api/v1/resources/h1/maintenance', {
      token: BOB_TOKEN,
      body: { on: true, reason: 'disk swap' },
    });
    expect(on.status, on.text).to.equal(200);
    const d = rig.cluster.service.describeResource({ type: 'host', id: 'h1' });
    expect(d.maintenance.operator).to.include({ by: 'bob', reason: 'disk swap' });
    const audits = () => rig.cluster.events.filter((e) => e.type === 'operator.action');
    expect(audits().at(-1)).to.include({ by: 'bob', action: 'maintenance-on', target: 'host:h1', reason: 'disk swap' });
    const off = await rig.call('POST', '/api/v1/resources/h1/maintenance', { body: { on: false } });
    expect(off.status).to.equal(200);
    expect(audits().at(-1)).to.include({ by: 'alice', action: 'maintenance-off' });
    expect(rig.cluster.service.describeResource({ type: 'host', id: 'h1' }).maintenance.operator).to.equal(undefined);
    const stored = await rig.call('GET', '/api/v1/events?limit=1000');
    expect(stored.json.events.filter((e: { type: string }) => e.type === 'operator.action')).to.have.length(2);
  });

  it('POST partitions/:id/ha and fencing/resume: applied and audited', async () => {
    const off = await rig.call('POST', '/api/v1/partitions/c1/ha', { body: { enabled: false, reason: 'upgrade' } });
    expect(off.status, off.text).to.equal(200);
    expect(rig.cluster.service.describePartitions().find((p) => p.id === 'c1')!.haEnabled).to.equal(false);
    const resume = await rig.call('POST', '/api/v1/fencing/resume', { body: { scope: 'global' } });
    expect(resume.status, resume.text).to.equal(200);
    const audits = rig.cluster.events.filter((e) => e.type === 'operator.action');
    expect(audits.map((e) => e.type === 'operator.action' && [e.by, e.action, e.target])).to.deep.equal([
      ['alice', 'ha-disable', 'c1'],
      ['alice', 'fencing-resume', 'global'],
    ]);
  });

  it('GET /api/v1/events pages the stored history with next', async () => {
    const first = await rig.call('GET', '/api/v1/events?limit=2');
    expect(first.status).to.equal(200);
    expect(first.json.events).to.have.length(2);
    const [e1, e2] = first.json.events;
    expect(e2.id).to.be.greaterThan(e1.id);
    expect(e1.event.type).to.equal(e1.type);
    expect(first.json.next).to.equal(e2.id);
    const second = await rig.call('GET', `/api/v1/events?after=${first.json.next}&limit=1`);
    expect(second.json.events[0].id).to.be.greaterThan(e2.id);
    const end = await rig.call('GET', '/api/v1/events?after=999999');
    expect(end.json).to.deep.equal({ events: [], next: 999999 });
  });
});
