import { expect } from 'chai';
import { HaService } from '@hafence/core';
import { FakeProvider, TestClock } from '@hafence/testkit';

describe('a resource added to an ACTIVE partition (issue 13: serve N=2000, hosts left in NONE)', () => {
  it('leaves NONE as the members there at the activation did', async () => {
    // Saw it fail before the fix: h3 stayed NONE (the activation had passed before it was attached).
    const clock = new TestClock();
    const ha = new HaService({ providers: [new FakeProvider({ clock })], clock, config: { startupGrace: 0 } });
    await ha.start();
    await ha.addPartition({ id: 'z1', kind: 'zone', enabled: true, haEnabled: true });
    await ha.addPartition({ id: 'p1', kind: 'pod', parent: 'z1', enabled: true, haEnabled: true });
    await ha.addPartition({ id: 'c1', kind: 'cluster', parent: 'p1', enabled: true, haEnabled: true });
    for (const id of ['h1', 'h2']) await ha.addResource({ ref: { type: 'host', id }, partition: 'c1' });
    await clock.advance(30_000);
    expect(ha.partitionState('c1')).to.equal('ACTIVE');
    await ha.addResource({ ref: { type: 'host', id: 'h3' }, partition: 'c1' });
    await clock.advance(30_000);
    expect(ha.list().map((r) => [r.ref.id, r.state])).to.deep.equal([
      ['h1', 'AVAILABLE'],
      ['h2', 'AVAILABLE'],
      ['h3', 'AVAILABLE'],
    ]);
    await ha.stop();
  });
});
