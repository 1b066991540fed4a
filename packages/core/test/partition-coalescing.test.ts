import { expect } from 'chai';
import { HaService } from '@hafence/core';
import { FakeProvider, TestClock } from '@hafence/testkit';

/** A cluster of `hosts` started on virtual time; counts the partition's passes until every host is AVAILABLE. */
async function startCluster(hosts: number, bulk: boolean): Promise<{ passes: number; instants: number }> {
  const clock = new TestClock();
  const ha = new HaService({ providers: [new FakeProvider({ clock })], clock, config: { startupGrace: 0 } });
  const at = new Map<number, number>();
  let passes = 0;
  ha.observe({
    partitionAssessed: (p) => {
      if (p !== 'c1') return;
      passes++;
      at.set(clock.now(), (at.get(clock.now()) ?? 0) + 1);
    },
  });
  await ha.start();
  await ha.addPartition({ id: 'z1', kind: 'zone', enabled: true, haEnabled: true });
  await ha.addPartition({ id: 'p1', kind: 'pod', parent: 'z1', enabled: true, haEnabled: true });
  await ha.addPartition({ id: 'c1', kind: 'cluster', parent: 'p1', enabled: true, haEnabled: true });
  const specs = [...Array(hosts).keys()].map((i) => ({ ref: { type: 'host', id: `h${i + 1}` }, partition: 'c1' }));
  if (bulk) await ha.addResources(specs);
  else for (const spec of specs) await ha.addResource(spec);
  await clock.advance(30_000);
  expect(ha.list().filter((r) => r.state === 'AVAILABLE')).to.have.length(hosts);
  expect(ha.partitionState('c1')).to.equal('ACTIVE');
  await ha.stop();
  return { passes, instants: at.size };
}

describe('partition reassessment is coalesced (issue 13: O(n) start-up)', () => {
  it('a cluster starting up is reassessed about once per instant a member changed, not twice per member', async () => {
    // Saw it fail before the fix: 2 passes per host (its transition and its first health answer, one instant).
    const { passes, instants } = await startCluster(200, false);
    expect(passes).to.be.at.most(instants + 2); // + the ACTIVE switch: its member steps ask for one more
    expect(passes).to.be.below(1.2 * 200);
  });

  it('addResources adds every resource as addResource does, the first records written together', async () => {
    const { passes } = await startCluster(200, true);
    expect(passes).to.be.below(1.2 * 200);
  });
});
