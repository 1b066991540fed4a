import { expect } from 'chai';
import { LeaseTracker, MemoryArmRecords, type HeartbeatRecord } from '@hafence/provider-kvm';

const S = 1_000;
const SPAN = 60 * S + 30 * S;

function hb(counter: number, armed: boolean, armGen?: number): HeartbeatRecord {
  return {
    counter,
    armed,
    selfFenceAfter: 60 * S,
    watchdog: armed ? 'simulated' : 'none',
    ...(armGen === undefined ? {} : { armGen }),
  };
}

describe('lease tracker: condition (1) needs the latest recorded arm echoed by the heartbeat (SPEC §5.1, §7)', () => {
  let arms: MemoryArmRecords;
  let tracker: LeaseTracker;

  beforeEach(() => {
    arms = new MemoryArmRecords();
    tracker = new LeaseTracker(0, 30 * S, arms);
  });

  it('an armed heartbeat echoing the latest recorded arm is due after the span', async () => {
    await arms.record('h1', { gen: 1, armed: true, at: 0 });
    tracker.heartbeatRead('h1', [{ record: hb(4, true, 1), at: 0 }]);
    expect(await tracker.armed('h1')).to.equal(true);
    expect((await tracker.evaluate('h1', SPAN - 1)).kind).to.equal('pending');
    expect((await tracker.evaluate('h1', SPAN)).kind).to.equal('due');
  });

  it('a disarm recorded after the last armed heartbeat voids it until a heartbeat echoes an arm again', async () => {
    await arms.record('h1', { gen: 1, armed: true, at: 0 });
    tracker.heartbeatRead('h1', [{ record: hb(4, true, 1), at: 0 }]);
    await arms.record('h1', { gen: 2, armed: false, at: 5 * S });
    expect(await tracker.evaluate('h1', 10 * SPAN)).to.include({ kind: 'none', code: 'disarm-unconfirmed' });
    expect(await tracker.armed('h1')).to.equal(false);
    tracker.heartbeatRead('h1', [{ record: hb(5, false, 2), at: 10 * S }]);
    expect(await tracker.evaluate('h1', 10 * SPAN)).to.include({ kind: 'none', code: 'disarmed' });
    await arms.record('h1', { gen: 3, armed: true, at: 20 * S });
    expect(await tracker.evaluate('h1', 10 * SPAN), 'arm recorded, not yet echoed').to.include({
      kind: 'none',
      code: 'arm-gen-not-echoed',
    });
    tracker.heartbeatRead('h1', [{ record: hb(6, true, 3), at: 30 * S }]);
    expect((await tracker.evaluate('h1', 30 * S + SPAN)).kind).to.equal('due');
  });

  it("lease-only protection also takes the agent's acknowledgement of the latest arm; the proof does not, and no disarm is undone by it", async () => {
    await arms.record('h1', { gen: 1, armed: true, at: 0 });
    tracker.heartbeatRead('h1', [{ record: hb(4, true, 1), at: 0 }]);
    await arms.record('h1', { gen: 2, armed: true, at: S });
    expect(await tracker.armed('h1'), 'arm 2 not yet applied').to.equal(false);
    tracker.armApplied('h1', 2);
    expect(await tracker.armed('h1')).to.equal(true);
    expect(await tracker.evaluate('h1', 10 * SPAN)).to.include({ kind: 'none', code: 'arm-gen-not-echoed' });
    await arms.record('h1', { gen: 3, armed: false, at: 2 * S });
    tracker.armApplied('h1', 3);
    expect(await tracker.armed('h1')).to.equal(false);
  });

  it('no record, or a heartbeat without armGen (an older agent), proves nothing', async () => {
    tracker.heartbeatRead('h1', [{ record: hb(4, true, 9), at: 0 }]);
    expect(await tracker.evaluate('h1', 10 * SPAN)).to.include({ kind: 'none', code: 'no-arm-record' });
    await arms.record('h1', { gen: 1, armed: true, at: 0 });
    tracker.heartbeatRead('h1', [{ record: hb(5, true), at: S }]);
    expect(await tracker.evaluate('h1', 10 * SPAN)).to.include({ kind: 'none', code: 'arm-gen-not-echoed' });
  });

  it('the in-memory record store refuses a gen not above the latest', async () => {
    await arms.record('h1', { gen: 2, armed: true, at: 0 });
    for (const gen of [2, 1, 0, 2.5]) {
      const err = await arms.record('h1', { gen, armed: false, at: 0 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, `gen ${gen}`).to.include({ code: 'HAF5104' });
    }
    expect(await arms.latest('h1')).to.include({ gen: 2, armed: true });
  });
});
