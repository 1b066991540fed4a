import { expect } from 'chai';
import { MemoryStateStore } from '@hafence/core';
import { ArmGenConflictError, MemoryArmRecords, StoreArmRecords, type ArmRecords } from '@hafence/provider-kvm';

/** The two ArmRecords behave alike; the store-backed one outlives its owner (a restart, another server). */
describe('arm records', () => {
  const kinds: Array<[string, () => ArmRecords]> = [
    ['MemoryArmRecords', () => new MemoryArmRecords()],
    ['StoreArmRecords', () => new StoreArmRecords(new MemoryStateStore())],
  ];
  for (const [name, make] of kinds) {
    describe(name, () => {
      it('records the latest arm or disarm per host; gens only grow', async () => {
        const arms = make();
        expect(await arms.latest('kvm1')).to.equal(undefined);
        await arms.record('kvm1', { gen: 1, armed: true, at: 10 });
        await arms.record('kvm1', { gen: 2, armed: false, at: 20 });
        await arms.record('kvm2', { gen: 1, armed: true, at: 30 });
        expect(await arms.latest('kvm1')).to.deep.equal({ gen: 2, armed: false, at: 20 });
        expect(await arms.latest('kvm2')).to.deep.equal({ gen: 1, armed: true, at: 30 });
        for (const gen of [2, 1, 0, -1, 2.5, Number.NaN]) {
          const err = await arms.record('kvm1', { gen, armed: true, at: 40 }).catch((e: unknown) => e);
          expect(err, `gen ${gen}`).to.be.instanceOf(ArmGenConflictError);
          expect((err as ArmGenConflictError).code).to.equal('HAF5104');
        }
        expect(await arms.latest('kvm1')).to.deep.equal({ gen: 2, armed: false, at: 20 }); // nothing half-done
      });
    });
  }

  it('StoreArmRecords: a restarted server (a new instance on the same store) sees the disarm recorded before it', async () => {
    const store = new MemoryStateStore();
    await new StoreArmRecords(store).record('kvm1', { gen: 7, armed: false, at: 5 });
    const after = new StoreArmRecords(store);
    expect(await after.latest('kvm1')).to.deep.equal({ gen: 7, armed: false, at: 5 });
    expect(await store.latestArm('host:kvm1')).to.deep.include({ armGen: 7, kind: 'disarm' });
    const err = await after.record('kvm1', { gen: 7, armed: true, at: 6 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ArmGenConflictError);
    expect((err as ArmGenConflictError).latest).to.equal(7);
  });
});
