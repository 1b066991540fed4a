import { expect } from 'chai';
import { MemoryStateStore, type HaService, type ResourceDetail } from '@hafence/core';
import { createFakeCluster, type FakeCluster } from '@hafence/testkit';
import { MIN, cluster, stops } from './cluster-views.js';

const h = (id: string) => ({ type: 'host', id });

/** Advances the clock in small steps until `pred` holds (at most `maxMs`); returns the detail then. */
async function until(c: FakeCluster, id: string, pred: (d: ResourceDetail) => boolean, maxMs = 60 * MIN) {
  for (let waited = 0; waited <= maxMs; waited += 100) {
    const d = c.service.describeResource(h(id));
    if (pred(d)) return d;
    await c.clock.advance(100);
  }
  throw new Error(`${id} never reached the expected detail`);
}

/** The time of the latest transition of `id` into `to`. */
function enteredAt(c: FakeCluster, id: string, to: string): number | undefined {
  const e = c.events.filter((x) => x.type === 'resource.transition' && x.resource === id && x.to === to).pop();
  return e?.t;
}

describe('HaService read model (docs/behaviour.md#operator-actions)', () => {
  let c: FakeCluster;
  afterEach(async () => c?.close());

  it('describes a healthy resource: state, power, maintenance, next check and what it waits for', async () => {
    c = await cluster();
    const d = c.service.describeResource(h('h1'));
    expect(d).to.deep.include({
      ref: h('h1'),
      partition: 'c1',
      state: 'AVAILABLE',
      since: enteredAt(c, 'h1', 'AVAILABLE'),
      healthy: true,
      eligible: true,
      power: 'ON',
      maintenance: { inventory: false },
      observeOnly: false,
      released: false,
      owned: true,
    });
    expect(d.episode).to.equal(undefined);
    expect(d.timers.nextCheckAt).to.be.a('number').above(c.clock.now());
    expect(d.timers.nextCheckAt! - c.clock.now()).to.be.at.most(11_000); // one interval (10 s) with its jitter
    expect(d.waiting).to.deep.equal({ for: 'check', at: d.timers.nextCheckAt });
    expect(c.service.describeResources().map((r) => r.ref.id)).to.deep.equal(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
  });

  it('after a scripted crash: SUSPECT waits for its activity check, then the quiet period, the episode counts', async () => {
    c = await cluster();
    c.provider.host('h3').crashed = true;
    const suspect = await until(c, 'h3', (d) => d.state === 'SUSPECT');
    expect(suspect.since).to.equal(enteredAt(c, 'h3', 'SUSPECT'));
    expect(suspect.healthy).to.equal(false);
    expect(suspect.timers.activityAt).to.equal(suspect.since + 10_000); // the first backoff step
    expect(suspect.waiting).to.deep.equal({ for: 'activity', at: suspect.timers.activityAt });
    expect(suspect.episode).to.deep.include({ id: 1, checks: 0, recoverAttempts: 0, released: false });
    // after one activity check the backoff doubles and the episode counts it
    const again = await until(c, 'h3', (d) => d.state === 'SUSPECT' && (d.episode?.checks ?? 0) === 1);
    expect(again.episode).to.deep.include({ id: 1, checks: 1, inactiveStreak: 1 });
    expect(again.waiting).to.deep.equal({ for: 'activity', at: again.since + 20_000 });
    // recovered by a verified off/on: released, then quiet in INITIALIZING
    const quiet = await until(c, 'h3', (d) => d.state === 'INITIALIZING');
    expect(quiet.released).to.equal(true);
    expect(quiet.episode).to.deep.include({ id: 1, recoverAttempts: 1, released: true });
    const quietUntil = quiet.timers.quietUntil!;
    expect(quietUntil).to.be.above(c.clock.now());
    const waiting = await until(c, 'h3', (d) => d.waiting?.for === 'quiet');
    expect(waiting.waiting).to.deep.equal({ for: 'quiet', at: quietUntil });
    const back = await until(c, 'h3', (d) => d.state === 'AVAILABLE');
    expect(back.episode).to.equal(undefined);
    expect(back.released).to.equal(false);
  });

  it('a stuck host ends FENCED: released, power OFF, the episode keeps its outcome; the budget counts the stops', async () => {
    c = await cluster();
    Object.assign(c.provider.host('h2'), { crashed: true, stuck: true });
    const fenced = await until(c, 'h2', (d) => d.state === 'FENCED');
    expect(fenced).to.deep.include({ released: true, power: 'OFF' });
    expect(fenced.episode).to.deep.include({ outcome: 'FENCED', recoverAttempts: 2, released: true });
    expect(fenced.waiting!.for).to.equal('check');
    const budgets = c.service.fenceBudgets();
    expect(budgets).to.deep.equal([
      { scope: 'global', limit: 10, used: stops(c), windowMs: 3_600_000, halted: false },
      { scope: 'c1', limit: 3, used: stops(c), windowMs: 3_600_000, halted: false },
    ]);
    expect(stops(c)).to.equal(3);
    // the window slides: an hour after the last stop nothing counts any more
    await c.clock.advance(61 * MIN);
    expect(c.service.fenceBudgets().map((b) => b.used)).to.deep.equal([0, 0]);
  });

  it('an exhausted budget reads halted with its reason; a resume counts from then and is audited', async () => {
    c = await cluster({ config: { defaults: { maxFencesPerWindow: 1 } } });
    Object.assign(c.provider.host('h2'), { crashed: true, stuck: true });
    for (let i = 0; i < 600 && !c.service.fenceBudgets()[1]!.halted; i++) await c.clock.advance(1_000);
    const c1 = c.service.fenceBudgets()[1]!;
    expect(c1).to.deep.include({ scope: 'c1', limit: 1, used: 1, halted: true });
    expect(c1.haltedReason).to.be.a('string');
    expect(c.events.filter((e) => e.type === 'fencing.halted').map((e) => e.scope)).to.deep.equal(['c1']);
    expect(stops(c)).to.equal(1);
    const resumedAt = c.clock.now();
    c.service.resumeFencing('c1', { by: 'alice', reason: 'looked at it' });
    expect(c.events.filter((e) => e.type === 'operator.action')).to.deep.equal([
      {
        t: c.clock.now(),
        type: 'operator.action',
        by: 'alice',
        action: 'fencing-resume',
        target: 'c1',
        reason: 'looked at it',
      },
    ]);
    await c.clock.advance(10_000);
    expect(stops(c), 'the held stop went').to.equal(2);
    const after = c.service.fenceBudgets()[1]!;
    // what the store counts: only stops after the resume (one sent at its very instant does not count)
    expect(after).to.deep.include({ used: await c.store.countFenceLog(resumedAt, 'c1'), halted: false });
    expect(c.service.fenceBudgets()[0]!.used, 'the global scope was not resumed').to.equal(2);
    expect(after.haltedReason).to.equal(undefined);
  });

  it('a restart counts the stops already in the store (one read when the partition starts)', async () => {
    const store = new MemoryStateStore();
    c = await cluster({ store });
    Object.assign(c.provider.host('h2'), { crashed: true, stuck: true });
    await until(c, 'h2', (d) => d.state === 'FENCED');
    const before = stops(c);
    expect(before).to.equal(3);
    await c.close();
    c = await createFakeCluster({ hosts: 6, store, clock: c.clock, config: { startupGrace: 0 } });
    await c.clock.advance(0);
    expect(c.service.fenceBudgets().map((b) => [b.scope, b.used])).to.deep.equal([
      ['global', before],
      ['c1', before],
    ]);
    expect(c.service.describeResource(h('h2'))).to.deep.include({ state: 'FENCED', released: true });
  });

  it('describes partitions: the cluster the engine runs, and zone and pod without a provider', async () => {
    c = await cluster();
    const parts = c.service.describePartitions();
    expect(parts.map((p) => p.id)).to.deep.equal(['z1', 'p1', 'c1']);
    const [z1, p1, c1] = parts;
    const activeAt = c.events.find((e) => e.type === 'partition.transition' && e.to === 'ACTIVE')!.t;
    expect(c1).to.deep.equal({
      id: 'c1',
      kind: 'cluster',
      parent: 'p1',
      enabled: true,
      haEnabled: true,
      state: 'ACTIVE',
      since: activeAt,
      reason: (c.events.find((e) => e.type === 'partition.transition' && e.to === 'ACTIVE') as { reason: string })
        .reason,
      observeOnly: false,
      members: 6,
    });
    expect(z1).to.deep.include({ kind: 'zone', state: 'NONE', haEnabled: true, members: 0 });
    expect(z1!.parent).to.equal(undefined);
    expect(z1!.lease, 'one server: no lease').to.equal(undefined);
    expect(p1).to.deep.include({ kind: 'pod', parent: 'z1', state: 'NONE' });
  });

  it('an unknown resource is a NotFoundError (HAF2002)', async () => {
    c = await cluster();
    const service: HaService = c.service;
    expect(() => service.describeResource(h('nope')))
      .to.throw()
      .with.property('code', 'HAF2002');
  });
});
