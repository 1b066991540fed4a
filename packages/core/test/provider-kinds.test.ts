import { expect } from 'chai';
import { HaService } from '@hafence/core';
import { FakeProvider, TestClock } from '@hafence/testkit';

describe('a provider with its own partition kind', () => {
  it('partitions of kind "rack" hold its resources, which become AVAILABLE', async () => {
    const clock = new TestClock();
    const ha = new HaService({ providers: [new FakeProvider({ clock, resourceType: 'pdu', partitionKind: 'rack', minMembers: 1 })], clock, config: { startupGrace: 0 } });
    await ha.start();
    await ha.addPartition({ id: 'rack-1', kind: 'rack', enabled: true, haEnabled: true });
    await ha.addResource({ ref: { type: 'pdu', id: 'p1' }, partition: 'rack-1' });
    await clock.advance(5 * 60_000);
    expect(ha.partitionState('rack-1')).to.equal('ACTIVE');
    expect(ha.resource({ type: 'pdu', id: 'p1' }).state).to.equal('AVAILABLE');
    await ha.stop();
  });
});
