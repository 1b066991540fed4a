import { assert, expect } from 'chai';
import { HaService, type ProviderContext } from '@hafence/core';
import { FakeProvider, TestClock } from '@hafence/testkit';

describe('a provider with its own partition kind', () => {
  it('partitions of kind "rack" hold its resources, which become AVAILABLE', async () => {
    const clock = new TestClock();
    const ha = new HaService({
      providers: [new FakeProvider({ clock, resourceType: 'pdu', partitionKind: 'rack', minMembers: 1 })],
      clock,
      config: { startupGrace: 0 },
    });
    await ha.start();
    await ha.addPartition({ id: 'rack-1', kind: 'rack', enabled: true, haEnabled: true });
    await ha.addResource({ ref: { type: 'pdu', id: 'p1' }, partition: 'rack-1' });
    await clock.advance(5 * 60_000);
    expect(ha.partitionState('rack-1')).to.equal('ACTIVE');
    expect(ha.resource({ type: 'pdu', id: 'p1' }).state).to.equal('AVAILABLE');
    await ha.stop();
  });
});

describe('provider defaults', () => {
  it('without partitionConditions: ACTIVE when the partition and its ancestors are enabled, not while an ancestor is disabled', async () => {
    const clock = new TestClock();
    const provider = new FakeProvider({ clock });
    Object.assign(provider, { partitionConditions: undefined });
    expect(provider.partitionConditions).to.equal(undefined);
    const ha = new HaService({ providers: [provider], clock, config: { startupGrace: 0 } });
    await ha.start();
    await ha.addPartition({ id: 'z1', kind: 'zone', enabled: false, haEnabled: true });
    await ha.addPartition({ id: 'c1', kind: 'cluster', parent: 'z1', enabled: true, haEnabled: true });
    await ha.addResource({ ref: { type: 'host', id: 'h1' }, partition: 'c1' });
    await clock.advance(60_000);
    expect(ha.partitionState('c1')).to.not.equal('ACTIVE');
    await ha.updatePartition({ id: 'z1', kind: 'zone', enabled: true, haEnabled: true });
    await clock.advance(60_000);
    expect(ha.partitionState('c1')).to.equal('ACTIVE');
    await ha.stop();
  });

  it('ctx.sleep waits on the injected clock and rejects with the abort reason when the call times out', async () => {
    const clock = new TestClock();
    const provider = new FakeProvider({ clock });
    const seen: { startedAt: number; endedAt?: number; error?: string }[] = [];
    Object.assign(provider, {
      healthCheck: async (_r: unknown, ctx: ProviderContext) => {
        const call: { startedAt: number; endedAt?: number; error?: string } = { startedAt: clock.now() };
        seen.push(call);
        try {
          await ctx.sleep(3_600_000);
          return { healthy: true };
        } catch (err) {
          call.error = (err as Error).name;
          throw err;
        } finally {
          call.endedAt = clock.now();
        }
      },
    });
    const ha = new HaService({
      providers: [provider],
      clock,
      config: { startupGrace: 0, defaults: { healthCheckTimeout: '5s' } },
    });
    await ha.start();
    await ha.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
    await ha.addResource({ ref: { type: 'host', id: 'h1' }, partition: 'c1' });
    await clock.advance(30_000);
    const first = seen[0];
    assert.exists(first, 'a health check ran');
    expect(first.error).to.equal('TimeoutError');
    assert.exists(first.endedAt, 'the check ended');
    expect(first.endedAt - first.startedAt).to.equal(5_000);
    await ha.stop();
  });
});
