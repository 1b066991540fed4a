import { expect } from 'chai';
import { HaService, InvalidRequestError, MemoryStateStore, NotFoundError, type Partition } from '@hafence/core';
import { FakeProvider, TestClock } from '@hafence/testkit';

const P = (id: string, kind: Partition['kind'], parent?: string, more: Partial<Partition> = {}): Partition => ({
  id,
  kind,
  ...(parent === undefined ? {} : { parent }),
  enabled: true,
  haEnabled: true,
  ...more,
});

/** zone z1 ⊃ pods p1, p2; cluster c1 in p1 with h1, h2; cluster c0 without a parent, with h3. */
async function world() {
  const clock = new TestClock();
  const provider = new FakeProvider({ clock });
  const ha = new HaService({
    providers: [provider],
    clock,
    store: new MemoryStateStore(),
    config: {
      startupGrace: 0,
      jitterFraction: 0,
      defaults: { healthCheckInterval: '20s' },
      pods: { p1: { healthCheckInterval: '15s' }, p2: { healthCheckInterval: '8s' } },
    },
  });
  await ha.start();
  await ha.addPartition(P('z1', 'zone'));
  await ha.addPartition(P('z2', 'zone'));
  await ha.addPartition(P('p1', 'pod', 'z1'));
  await ha.addPartition(P('p2', 'pod', 'z1'));
  await ha.addPartition(P('c1', 'cluster', 'p1'));
  await ha.addPartition(P('c0', 'cluster'));
  await ha.addResource({ ref: { type: 'host', id: 'h1' }, partition: 'c1' });
  await ha.addResource({ ref: { type: 'host', id: 'h2' }, partition: 'c1' });
  await ha.addResource({ ref: { type: 'host', id: 'h3' }, partition: 'c0' });
  await clock.advance(30_000);
  return { clock, provider, ha };
}

type World = Awaited<ReturnType<typeof world>>;

/** Everything an update could change, as the public API shows it (without times that move with the clock). */
function snapshot(w: World) {
  const ids = ['z1', 'z2', 'p1', 'p2', 'c1', 'c0'];
  return {
    partitions: w.ha
      .describePartitions()
      .map((p) => ({
        id: p.id,
        kind: p.kind,
        parent: p.parent,
        enabled: p.enabled,
        ha: p.haEnabled,
        oo: p.observeOnly,
      }))
      .sort((a, b) => a.id.localeCompare(b.id)),
    observeOnly: ids.map((id) => w.ha.isObserveOnly(id)),
    states: ['c1', 'c0'].map((id) => w.ha.partitionState(id)),
    resources: w.ha
      .describeResources()
      .map((r) => ({ ref: r.ref.id, partition: r.partition, state: r.state, oo: r.observeOnly }))
      .sort((a, b) => a.ref.localeCompare(b.ref)),
  };
}

/** Health checks per host over the next 120 s: the members' check interval. */
async function checksPerHost(w: World): Promise<Record<string, number>> {
  const from = w.provider.calls.length;
  await w.clock.advance(120_000);
  const out: Record<string, number> = {};
  for (const c of w.provider.calls.slice(from)) if (c.kind === 'health') out[c.host] = (out[c.host] ?? 0) + 1;
  return out;
}

async function refusal(p: Promise<void>): Promise<unknown> {
  return p.then(
    () => 'accepted',
    (e: unknown) => e,
  );
}

describe('break: updatePartition refuses a change of kind or parent, changing nothing', () => {
  const refused: [string, (w: World) => Partition][] = [
    [
      'c1 moved to p2, disabled, HA off and observe-only',
      () => P('c1', 'cluster', 'p2', { enabled: false, haEnabled: false, observeOnly: true }),
    ],
    ['c1 parent key missing (was p1), observe-only', () => P('c1', 'cluster', undefined, { observeOnly: true })],
    [
      'c1 parent: undefined (was p1), HA off',
      () => ({ ...P('c1', 'cluster', undefined, { haEnabled: false }), parent: undefined }),
    ],
    ["c1 parent '' (was p1), disabled", () => P('c1', 'cluster', '', { enabled: false })],
    ['c1 kind pod (parent kept), observe-only', () => P('c1', 'pod', 'p1', { observeOnly: true })],
    ['c1 parent a cluster (c0)', () => P('c1', 'cluster', 'c0')],
    ['c1 parent itself', () => P('c1', 'cluster', 'c1')],
    ['c1 parent unknown', () => P('c1', 'cluster', 'nope', { observeOnly: true })],
    ['c0 given a parent p2 (had none), HA off', () => P('c0', 'cluster', 'p2', { haEnabled: false })],
    ['c0 kind zone', () => P('c0', 'zone')],
    ['p1 moved to zone z2, observe-only', () => P('p1', 'pod', 'z2', { observeOnly: true })],
    ['p1 kind cluster', () => P('p1', 'cluster', 'z1')],
    ['z1 given a parent z2, disabled', () => P('z1', 'zone', 'z2', { enabled: false })],
    ['z1 kind pod, observe-only', () => P('z1', 'pod', undefined, { observeOnly: true })],
    ['c1 kind not a kind (rack)', () => P('c1', 'rack' as Partition['kind'], 'p1', { observeOnly: true })],
    ['c1 parent __proto__', () => P('c1', 'cluster', '__proto__', { observeOnly: true })],
  ];
  for (const [title, make] of refused) {
    it(`${title}: InvalidRequestError, nothing changed`, async () => {
      const w = await world();
      const before = snapshot(w);
      const err = await refusal(w.ha.updatePartition(make(w)));
      expect(err).to.be.instanceOf(InvalidRequestError);
      expect(snapshot(w)).to.deep.equal(before);
      expect(await checksPerHost(w), 'members keep their settings and are still checked').to.deep.equal({
        h1: 8,
        h2: 8,
        h3: 6,
      });
    });
  }

  it('a refused move does not undo an earlier accepted observe-only switch, nor half-apply its own', async () => {
    const w = await world();
    await w.ha.updatePartition(P('c1', 'cluster', 'p1', { observeOnly: true }));
    expect(w.ha.isObserveOnly('c1')).to.equal(true);
    const before = snapshot(w);
    expect(await refusal(w.ha.updatePartition(P('c1', 'cluster', 'p2', { observeOnly: false })))).to.be.instanceOf(
      InvalidRequestError,
    );
    expect(snapshot(w)).to.deep.equal(before);
    expect(w.ha.isObserveOnly('c1')).to.equal(true);
  });

  it('switches are changed when kind and parent stay (missing parent key vs undefined for a parentless cluster)', async () => {
    const w = await world();
    await w.ha.updatePartition(P('c1', 'cluster', 'p1', { observeOnly: true, haEnabled: false }));
    await w.ha.updatePartition({ ...P('c0', 'cluster', undefined, { enabled: false }), parent: undefined });
    await w.ha.updatePartition(P('p2', 'pod', 'z1', { observeOnly: true }));
    await w.ha.updatePartition(P('z2', 'zone', undefined, { haEnabled: false }));
    const s = snapshot(w);
    const by = Object.fromEntries(s.partitions.map((p) => [p.id, p]));
    expect(by.c1).to.include({ parent: 'p1', ha: false, oo: true });
    expect(by.c0).to.include({ parent: undefined, enabled: false });
    expect(by.p2).to.include({ parent: 'z1', oo: true });
    expect(by.z2).to.include({ ha: false });
    expect(w.ha.isObserveOnly('c1')).to.equal(true);
    expect(w.ha.isObserveOnly('p1')).to.equal(false);
    expect(await checksPerHost(w), 'members keep their lineage settings').to.deep.equal({ h1: 8, h2: 8, h3: 6 });
  });

  it("a parentless cluster updated with parent '': refused, or accepted without gaining a parent", async () => {
    const w = await world();
    const before = snapshot(w);
    const err = await refusal(w.ha.updatePartition(P('c0', 'cluster', '', { observeOnly: true })));
    if (err === 'accepted') {
      const c0 = w.ha.describePartitions().find((p) => p.id === 'c0');
      expect(c0?.parent, 'no parent gained').to.equal(undefined);
    } else {
      expect(err).to.be.instanceOf(InvalidRequestError);
      expect(snapshot(w)).to.deep.equal(before);
    }
  });

  for (const id of ['nope', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'c1 ', 'C1', 'c1\u0000', '']) {
    it(`unknown id ${JSON.stringify(id)}: NotFoundError (or InvalidRequestError), nothing added or changed`, async () => {
      const w = await world();
      const before = snapshot(w);
      const count = w.ha.describePartitions().length;
      const err = await refusal(w.ha.updatePartition(P(id, 'cluster', 'p1', { observeOnly: true })));
      if (id === '')
        expect(err).to.satisfy((e: unknown) => e instanceof NotFoundError || e instanceof InvalidRequestError);
      else expect(err).to.be.instanceOf(NotFoundError);
      expect(snapshot(w)).to.deep.equal(before);
      expect(w.ha.describePartitions().length).to.equal(count);
      expect(w.ha.isObserveOnly(id), 'the unknown id is not observe-only').to.equal(false);
    });
  }
});
