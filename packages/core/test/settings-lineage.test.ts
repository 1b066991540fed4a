import { expect } from 'chai';
import { HaService } from '@hafence/core';
import { FakeProvider, TestClock } from '@hafence/testkit';

/** Health checks of each host over `ms` of virtual time, after the start-up spread. */
async function checksPerHost(hosts: Array<[id: string, partition: string]>, ms: number): Promise<Map<string, number>> {
  const clock = new TestClock();
  const provider = new FakeProvider({ clock });
  const ha = new HaService({
    providers: [provider],
    clock,
    config: {
      startupGrace: 0,
      jitterFraction: 0,
      defaults: { healthCheckInterval: '20s' },
      pods: { p1: { healthCheckInterval: '15s' } },
      clusters: { c1: { healthCheckInterval: '10s' } },
      hosts: { h1: { healthCheckInterval: '4s' } },
    },
  });
  await ha.start();
  await ha.addPartition({ id: 'p1', kind: 'pod', enabled: true, haEnabled: true });
  for (const c of ['c1', 'c2'])
    await ha.addPartition({ id: c, kind: 'cluster', parent: 'p1', enabled: true, haEnabled: true });
  await ha.addPartition({ id: 'c3', kind: 'cluster', enabled: true, haEnabled: true });
  for (const [id, partition] of hosts) await ha.addResource({ ref: { type: 'host', id }, partition });
  await clock.advance(60_000);
  const from = provider.calls.length;
  await clock.advance(ms);
  const counts = new Map<string, number>();
  for (const c of provider.calls.slice(from))
    if (c.kind === 'health') counts.set(c.host, (counts.get(c.host) ?? 0) + 1);
  await ha.stop();
  return counts;
}

describe('settings by partition lineage', () => {
  it('a host gets its own override, its cluster’s, its pod’s or the default, whichever hosts were added before it', async () => {
    // Settings are resolved once per lineage for hosts without their own: h1 (own, 4 s) comes first in c1 and must not
    // give h2 its interval; h2 and h3 share c1's (10 s); h4 in c2 gets the pod's (15 s); h5 in c3 the default (20 s).
    const counts = await checksPerHost(
      [
        ['h1', 'c1'],
        ['h2', 'c1'],
        ['h3', 'c1'],
        ['h4', 'c2'],
        ['h5', 'c3'],
      ],
      600_000,
    );
    expect(Object.fromEntries(counts)).to.deep.equal({ h1: 150, h2: 60, h3: 60, h4: 40, h5: 30 });
  });
});
