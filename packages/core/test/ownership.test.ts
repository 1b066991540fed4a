import { expect } from 'chai';
import {
  HaService,
  LeaseLostError,
  MemoryStateStore,
  PowerManagementService,
  Secret,
  type CoordinationStore,
  type HaEvent,
  type PartitionLease,
  type ResourceRecord,
  type WriteOptions,
} from '@hafence/core';
import { FencedStateStore, Ownership, preferredOwner } from '@hafence/core/internal';
import { createFakeCluster, FakePowerDriver, FakeProvider, TestClock } from '@hafence/testkit';

const TTL = 30_000;
const MARGIN = 10_000;
const RENEW = 5_000;
const ACT = 20_000;

interface Log {
  acquired: PartitionLease[];
  lost: Array<{ partition: string; epoch: number; reason: string }>;
}

function server(clock: TestClock, coordination: CoordinationStore, msId: string, runId = `${msId}-r1`) {
  const log: Log = { acquired: [], lost: [] };
  const own = new Ownership({
    coordination,
    clock,
    msId,
    runId,
    leaseTtl: TTL,
    leaseMargin: MARGIN,
    renewInterval: RENEW,
    actBound: () => ACT,
    listener: {
      acquired: (l) => log.acquired.push(l),
      lost: (partition, epoch, reason) => log.lost.push({ partition, epoch, reason }),
    },
  });
  own.manage('c1');
  return { own, log };
}

/** A coordination store whose lease calls can be made to fail (outcome unknown) or whose renewals take time. */
class FlakyCoordination extends MemoryStateStore {
  failRenewals = false;
  override async acquireLease(...args: Parameters<MemoryStateStore['acquireLease']>) {
    if (this.failRenewals) throw new Error('connection lost during COMMIT');
    return super.acquireLease(...args);
  }
  renewDelayMs = 0;
  constructor(private readonly clock: TestClock) {
    super();
  }
  override async renewLease(partition: string, runId: string, epoch: number): Promise<boolean> {
    if (this.failRenewals) throw new Error('connection lost during COMMIT');
    if (this.renewDelayMs > 0) await new Promise<void>((r) => this.clock.setTimeout(r, this.renewDelayMs));
    return super.renewLease(partition, runId, epoch);
  }
}

describe('ownership of partitions (docs/behaviour.md#several-servers)', () => {
  it('joins on the first round, acquires a free partition on the next and renews it', async () => {
    const clock = new TestClock();
    const store = new MemoryStateStore();
    const { own, log } = server(clock, store, 'ms1');
    own.start();
    await clock.advance(0);
    expect(log.acquired, 'nothing on the joining round').to.deep.equal([]);
    await clock.advance(RENEW);
    expect(log.acquired.map((l) => [l.partition, l.epoch])).to.deep.equal([['c1', 1]]);
    expect(own.fence('c1')).to.deep.equal({ partition: 'c1', epoch: 1, runId: 'ms1-r1' });
    const before = (await store.listLeases())[0]!.renewSeq;
    await clock.advance(3 * RENEW);
    expect((await store.listLeases())[0]!.renewSeq).to.equal(before + 3);
    await clock.advance(10 * TTL);
    expect(own.holds('c1'), 'renewed leases never expire').to.equal(true);
    expect(log.lost).to.deep.equal([]);
    own.stop();
  });

  it('takes over a crashed holder only after its renewSeq stood still for leaseTtl + actBound', async () => {
    const clock = new TestClock();
    const store = new MemoryStateStore();
    const a = server(clock, store, 'ms1');
    a.own.start();
    await clock.advance(RENEW);
    expect(a.own.holds('c1')).to.equal(true);
    const b = server(clock, store, 'ms2');
    b.own.start();
    await clock.advance(4 * RENEW);
    expect(b.log.acquired, 'a renewing holder keeps its partition').to.deep.equal([]);
    a.own.stop(); // kill -9: no release, no renewal
    const crashedAt = clock.now();
    // b's next read sees the last renewSeq no earlier than the crash; it must wait TTL + ACT from that read
    while (b.log.acquired.length === 0) await clock.advance(1_000);
    const waited = clock.now() - crashedAt;
    expect(waited).to.be.at.least(TTL + ACT);
    expect(waited).to.be.at.most(TTL + ACT + 2 * RENEW);
    expect(b.log.acquired[0]!.epoch).to.equal(2);
    expect(b.own.fence('c1')?.epoch).to.equal(2);
    b.own.stop();
  });

  it('takes a released lease at once', async () => {
    const clock = new TestClock();
    const store = new MemoryStateStore();
    const a = server(clock, store, 'ms1');
    const b = server(clock, store, 'ms2');
    a.own.start();
    await clock.advance(RENEW);
    b.own.start();
    await clock.advance(RENEW);
    const holder = a.own.holds('c1') ? a : b;
    const other = holder === a ? b : a;
    await holder.own.leave();
    await clock.advance(RENEW);
    expect(other.log.acquired.map((l) => l.epoch)).to.deep.equal([2]);
    other.own.stop();
  });

  it('a renewal whose commit is unknown does not extend the deadline: the lease drops at the old one', async () => {
    const clock = new TestClock();
    const store = new FlakyCoordination(clock);
    const { own, log } = server(clock, store, 'ms1');
    own.start();
    await clock.advance(RENEW);
    const acquiredAt = clock.now();
    store.failRenewals = true;
    await clock.advance(TTL - MARGIN - 1);
    expect(own.holds('c1')).to.equal(true);
    expect(log.lost).to.deep.equal([]);
    await clock.advance(1);
    expect(own.holds('c1')).to.equal(false);
    expect(own.fence('c1')).to.equal(undefined);
    expect(log.lost).to.deep.equal([
      { partition: 'c1', epoch: 1, reason: 'lease deadline reached without a confirmed renewal' },
    ]);
    expect(clock.now() - acquiredAt).to.equal(TTL - MARGIN);
    own.stop();
  });

  it('the deadline counts from the clock read before the renewal was sent, not from its commit', async () => {
    const clock = new TestClock();
    const store = new FlakyCoordination(clock);
    const { own } = server(clock, store, 'ms1');
    own.start();
    await clock.advance(RENEW);
    store.renewDelayMs = 3_000; // each renewal commits 3 s after it was sent
    const sentAt = clock.now() + RENEW; // the next round's renewal is sent here
    await clock.advance(RENEW + 3_000); // …and has committed by now
    store.failRenewals = true; // nothing commits after it
    await clock.advanceTo(sentAt + TTL - MARGIN - 1);
    expect(own.holds('c1')).to.equal(true);
    await clock.advance(1);
    expect(own.holds('c1'), 'the deadline is sentAt + leaseTtl − margin').to.equal(false);
    own.stop();
  });

  it('a renewal the store refuses (another run holds the lease) drops the partition at once', async () => {
    const clock = new TestClock();
    const store = new MemoryStateStore();
    const { own, log } = server(clock, store, 'ms1');
    own.start();
    await clock.advance(RENEW);
    const lease = (await store.listLeases())[0]!;
    await store.acquireLease({ partition: 'c1', msId: 'ms9', runId: 'ms9-r1', leaseTtlMs: TTL }, lease.epoch);
    await clock.advance(RENEW);
    expect(log.lost.map((l) => l.reason)).to.deep.equal(['renewal refused: another server holds the lease']);
    expect(own.holds('c1')).to.equal(false);
    own.stop();
  });

  it('rendezvous hashing moves only the partitions of the server that joined or left', () => {
    const partitions = Array.from({ length: 300 }, (_, i) => `c${i}`);
    const owners = (servers: string[]) => new Map(partitions.map((p) => [p, preferredOwner(p, servers)]));
    const three = owners(['ms1', 'ms2', 'ms3']);
    const four = owners(['ms1', 'ms2', 'ms3', 'ms4']);
    const moved = partitions.filter((p) => three.get(p) !== four.get(p));
    expect(
      moved.every((p) => four.get(p) === 'ms4'),
      'a join moves partitions only to the newcomer',
    ).to.equal(true);
    expect(moved.length).to.be.within(40, 110); // about a quarter
    const two = owners(['ms1', 'ms3']);
    const gone = partitions.filter((p) => three.get(p) !== two.get(p));
    expect(
      gone.every((p) => three.get(p) === 'ms2'),
      'a leave moves only the leaver’s partitions',
    ).to.equal(true);
    expect(gone.length).to.equal(partitions.filter((p) => three.get(p) === 'ms2').length);
    expect(preferredOwner('c1', [])).to.equal(undefined);
  });

  it('a fenced write after the lease was taken throws LeaseLostError and drops the partition', async () => {
    const clock = new TestClock();
    const store = new MemoryStateStore();
    const { own, log } = server(clock, store, 'ms1');
    own.start();
    await clock.advance(RENEW);
    const fenced = new FencedStateStore(store, own, () => 'c1');
    const record = { id: 'c1', state: 'NONE' as const, version: 0, since: 0, reason: 'test' };
    expect(await fenced.savePartition(record, null)).to.equal(true);
    expect((await store.listLeases())[0]!.writeSeq, 'the write bumped writeSeq').to.equal(1);
    await store.acquireLease({ partition: 'c1', msId: 'ms2', runId: 'ms2-r1', leaseTtlMs: TTL }, 1);
    const err = await fenced.savePartition({ ...record, version: 1 }, 0).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(LeaseLostError);
    expect((err as LeaseLostError).code).to.equal('HAF2007');
    expect(log.lost.map((l) => [l.partition, l.reason])).to.deep.equal([['c1', 'fenced write refused by the store']]);
    const again = await fenced.putIntent({ resource: 'host:h1', command: 'off', at: 0 }).catch((e: unknown) => e);
    expect((again as LeaseLostError).code, 'nothing is sent once lost').to.equal('HAF2007');
    expect(await store.listIntents()).to.deep.equal([]);
    own.stop();
  });
});

/** A service of server `msId` over the shared `store`, owning cluster c1 with hosts h1..hN once it holds the lease. */
async function ownedServer(clock: TestClock, store: MemoryStateStore, msId: string, hosts: number) {
  const provider = new FakeProvider({ clock });
  const events: HaEvent[] = [];
  const ha = new HaService({
    providers: [provider],
    clock,
    store,
    config: { startupGrace: 0 },
    ownership: { coordination: store, msId, runId: `${msId}-r1` },
  });
  ha.events$.subscribe((e) => events.push(e));
  await ha.start();
  await ha.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
  for (let i = 1; i <= hosts; i++) await ha.addResource({ ref: { type: 'host', id: `h${i}` }, partition: 'c1' });
  return { ha, events, provider };
}

describe('HaService with ownership (docs/behaviour.md#several-servers)', () => {
  const service = (clock: TestClock, store: MemoryStateStore, msId: string) => ownedServer(clock, store, msId, 2);

  it('runs a partition only while it holds its lease, and drops it when a fenced write is refused', async () => {
    const clock = new TestClock();
    const store = new MemoryStateStore();
    const { ha, events } = await service(clock, store, 'ms1');
    expect(ha.list(), 'nothing runs before the lease').to.deep.equal([]);
    await clock.advance(RENEW);
    expect(events.filter((e) => e.type === 'partition.acquired')).to.have.length(1);
    await clock.advance(60_000);
    expect(ha.list().map((r) => r.ref.id)).to.deep.equal(['h1', 'h2']);
    expect(ha.partitionState('c1')).to.equal('ACTIVE');
    // another server takes the lease (as after a takeover): the next fenced write is refused
    const lease = (await store.listLeases()).find((l) => l.partition === 'c1')!;
    await store.acquireLease({ partition: 'c1', msId: 'ms2', runId: 'ms2-r1', leaseTtlMs: TTL }, lease.epoch);
    const records = JSON.stringify(await store.loadResources());
    await ha.setHaEnabled('c1', false);
    await clock.advance(0);
    const lost = events.filter((e) => e.type === 'partition.lost');
    expect(lost.map((e) => (e as { reason: string }).reason)).to.deep.equal(['fenced write refused by the store']);
    expect(ha.list(), 'its resources were detached').to.deep.equal([]);
    expect(JSON.stringify(await store.loadResources()), 'records kept for the new owner').to.equal(records);
    await ha.stop();
  });

  it('measures its leases on the ownership clock when one is given, not on the service clock', async () => {
    const wall = new TestClock(); // the service clock: it does not move here, as if stepped back
    const mono = new TestClock();
    const store = new FlakyCoordination(mono);
    const events: HaEvent[] = [];
    const ha = new HaService({
      providers: [new FakeProvider({ clock: wall })],
      clock: wall,
      store,
      config: { startupGrace: 0 },
      ownership: { coordination: store, msId: 'ms1', runId: 'ms1-r1', clock: mono },
    });
    ha.events$.subscribe((e) => events.push(e));
    await ha.start();
    await ha.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
    await mono.advance(RENEW);
    await wall.advance(0);
    expect(events.filter((e) => e.type === 'partition.acquired')).to.have.length(1);
    store.failRenewals = true;
    await mono.advance(TTL - MARGIN);
    await wall.advance(0);
    const lost = events.filter((e) => e.type === 'partition.lost');
    expect(lost.map((e) => (e as { reason: string }).reason)).to.deep.equal([
      'lease deadline reached without a confirmed renewal',
    ]);
    await ha.stop({ releaseLeases: false });
  });

  it('a second server takes over a crashed one and resumes its resources from the store', async () => {
    const clock = new TestClock();
    const store = new MemoryStateStore();
    const one = await service(clock, store, 'ms1');
    const two = await service(clock, store, 'ms2');
    await clock.advance(60_000);
    const [first, second] = one.ha.list().length > 0 ? [one, two] : [two, one];
    expect(first.ha.list()).to.have.length(2);
    expect(second.ha.list()).to.have.length(0);
    await first.ha.stop({ releaseLeases: false, closeStore: false });
    const crashed = clock.now();
    while (second.ha.list().length === 0) await clock.advance(1_000);
    expect(clock.now() - crashed).to.be.at.least(TTL + 20_000); // leaseTtl + the default powerOpTimeout
    await clock.advance(60_000);
    expect(second.ha.list().map((r) => r.state)).to.deep.equal(['AVAILABLE', 'AVAILABLE']);
    await second.ha.stop();
    expect(
      (await store.listLeases()).every((l) => l.runId === ''),
      'a clean stop releases',
    ).to.equal(true);
  });
});

describe('outbox on a takeover (docs/behaviour.md#persistence)', () => {
  /**
   * The shared store as server `msId` reaches it until it dies right after the commit that puts h1 in SUSPECT: that
   * write lands, and from then on no call of that server returns (a process killed before it heard back).
   */
  function diesAfterSuspectCommit(shared: MemoryStateStore): MemoryStateStore {
    let gone = false;
    return new Proxy(shared, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]): Promise<unknown> => {
          if (gone) return new Promise(() => undefined);
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          const record = args[0] as Partial<ResourceRecord> | undefined;
          if (prop !== 'saveResourceWithEvents' || record?.ref?.id !== 'h1' || record.state !== 'SUSPECT')
            return result;
          gone = true;
          return new Promise(() => undefined);
        };
      },
    });
  }

  it("the new owner relays the dead owner's committed, unemitted events first, once, with their ids", async () => {
    const clock = new TestClock();
    const shared = new MemoryStateStore();
    const one = await ownedServer(clock, diesAfterSuspectCommit(shared), 'ms1', 2);
    await clock.advance(60_000);
    expect(one.ha.list().map((r) => r.state)).to.deep.equal(['AVAILABLE', 'AVAILABLE']);
    const two = await ownedServer(clock, shared, 'ms2', 2);
    one.provider.host('h1').crashed = true;
    for (let i = 0; i < 120 && (await shared.getResource('host:h1'))?.state !== 'SUSPECT'; i++)
      await clock.advance(1_000);
    expect((await shared.getResource('host:h1'))?.state, 'the SUSPECT write committed').to.equal('SUSPECT');
    const suspect = (e: HaEvent) => e.type === 'resource.transition' && e.resource === 'h1' && e.to === 'SUSPECT';
    expect(one.events.filter(suspect), 'the dying owner emitted nothing of it').to.deep.equal([]);
    const [row] = await shared.listUndelivered({ partition: 'c1', limit: 10 });
    expect(row?.type).to.equal('resource.transition');
    two.provider.host('h1').crashed = true;
    for (let i = 0; i < 300 && two.ha.list().length === 0; i++) await clock.advance(1_000);
    await clock.advance(60_000);
    const acquired = two.events.findIndex((e) => e.type === 'partition.acquired');
    const relayed = two.events.findIndex(suspect);
    expect(acquired, 'the partition was taken over').to.be.at.least(0);
    expect(two.events.filter(suspect)[0], 'relayed with its row id').to.deep.include({
      from: 'AVAILABLE',
      id: row!.id,
    });
    expect(relayed, 'right after the takeover, before anything new of the partition').to.equal(acquired + 1);
    const rows = two.events.filter((e) => e.type === 'resource.transition' && e.resource === 'h1');
    expect(
      rows.filter((e) => (e as { id?: number }).id === row!.id),
      'relayed once',
    ).to.have.length(1);
    expect(await shared.listUndelivered({ limit: 10 }), 'delivered now').to.deep.equal([]);
    await two.ha.stop();
  });
});

describe('self-doubt hands partitions over (docs/behaviour.md#several-servers)', () => {
  const server10 = (clock: TestClock, store: MemoryStateStore, msId: string) => ownedServer(clock, store, msId, 10);

  it('the owner whose own checks fail widely hands its partitions to a server that sees them healthy', async () => {
    const clock = new TestClock();
    const store = new MemoryStateStore();
    const one = await server10(clock, store, 'ms1');
    const two = await server10(clock, store, 'ms2');
    await clock.advance(60_000);
    const [owner, other] = one.ha.list().length > 0 ? [one, two] : [two, one];
    expect(owner.ha.list().every((r) => r.state === 'AVAILABLE')).to.equal(true);
    // The owner's own network breaks: every check it runs fails; the other still sees the hosts.
    for (let i = 1; i <= 10; i++) owner.provider.host(`h${i}`).agentDown = true;
    const cut = clock.now();
    for (let i = 0; i < 300 && other.ha.list().length === 0; i++) await clock.advance(1_000);
    const handed = owner.events.filter((e) => e.type === 'partition.handed-over');
    expect(handed.map((e) => (e as { partition: string }).partition)).to.deep.equal(['c1']);
    const taken = other.events.find((e) => e.type === 'partition.acquired')!;
    expect(taken.t - handed[0]!.t, 'taken at once, not after leaseTtl + actBound').to.be.below(TTL);
    expect(taken.t - cut).to.be.below(3 * 60_000);
    await clock.advance(5 * 60_000);
    expect(other.ha.list().map((r) => r.state)).to.deep.equal(Array(10).fill('AVAILABLE'));
    expect(owner.ha.list(), 'not taken back').to.deep.equal([]);
    expect(store.fenceEntries(), 'no stop command anywhere').to.deep.equal([]);
    await one.ha.stop();
    await two.ha.stop();
  });

  it('alone, a doubting server keeps its partitions (nobody to hand them to)', async () => {
    const clock = new TestClock();
    const store = new MemoryStateStore();
    const one = await server10(clock, store, 'ms1');
    await clock.advance(60_000);
    for (let i = 1; i <= 10; i++) one.provider.host(`h${i}`).agentDown = true;
    await clock.advance(5 * 60_000);
    expect(one.ha.selfDoubting).to.equal(true);
    expect(one.events.filter((e) => e.type === 'partition.handed-over')).to.deep.equal([]);
    expect(one.ha.list()).to.have.length(10);
    await one.ha.stop();
  });
});

describe('a server that cannot reach the controllers hands the partition over (docs/behaviour.md#several-servers)', () => {
  const PW = 'reach-test-pw';
  async function reachServer(clock: TestClock, store: MemoryStateStore, msId: string) {
    // Each server reaches the same chassis over its own network: its own driver and power service.
    const driver = new FakePowerDriver({ clock, password: PW, latencyMs: 5 });
    const power = new PowerManagementService({ clock, drivers: [driver], config: { defaultPowerDrivers: ['fake'] } });
    const events: HaEvent[] = [];
    const ha = new HaService({
      providers: [new FakeProvider({ clock })],
      clock,
      store,
      power,
      ownPower: true,
      config: { startupGrace: 0 },
      ownership: { coordination: store, msId, runId: `${msId}-r1` },
    });
    ha.events$.subscribe((e) => events.push(e));
    await ha.start();
    await ha.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
    for (let i = 1; i <= 5; i++) {
      const id = `h${i}`;
      const target = { host: id, address: `bmc-${id}`, username: 'admin', password: new Secret(PW) };
      await ha.addResource({ ref: { type: 'host', id }, partition: 'c1', power: { target } });
    }
    return { ha, events, driver };
  }

  it('another server reaching the controllers clearly better for 5 min gets the partition, at once', async () => {
    const clock = new TestClock();
    const store = new MemoryStateStore();
    const one = await reachServer(clock, store, 'ms1');
    const two = await reachServer(clock, store, 'ms2');
    await clock.advance(2 * 60_000);
    const [owner, other] = one.ha.list().length > 0 ? [one, two] : [two, one];
    for (let i = 1; i <= 5; i++) owner.driver.host(`h${i}`).fault = 'down'; // the owner's management network breaks
    const cut = clock.now();
    for (let i = 0; i < 20 * 60 && other.ha.list().length === 0; i++) await clock.advance(1_000);
    const handed = owner.events.filter((e) => e.type === 'partition.handed-over');
    expect(handed).to.have.length(1);
    expect((handed[0] as { reason: string }).reason).to.match(/reaches its controllers better \(1\.00 against 0\.00\)/);
    expect(handed[0]!.t - cut, 'only after 5 min of clearly better reach').to.be.at.least(5 * 60_000);
    const taken = other.events.find((e) => e.type === 'partition.acquired')!;
    expect(taken.t - handed[0]!.t, 'taken at once').to.be.below(TTL);
    await clock.advance(10 * 60_000);
    expect(owner.ha.list(), 'not taken back').to.deep.equal([]);
    expect(store.fenceEntries(), 'no stop command').to.deep.equal([]);
    await one.ha.stop();
    await two.ha.stop();
  });

  it('a difference under 0.25, or one that does not last 5 min, moves nothing', async () => {
    const clock = new TestClock();
    const store = new MemoryStateStore();
    const one = await reachServer(clock, store, 'ms1');
    const two = await reachServer(clock, store, 'ms2');
    await clock.advance(2 * 60_000);
    const [owner] = one.ha.list().length > 0 ? [one, two] : [two, one];
    owner.driver.host('h1').fault = 'down'; // 0.80 against 1.00
    await clock.advance(10 * 60_000);
    for (let i = 2; i <= 5; i++) owner.driver.host(`h${i}`).fault = 'down';
    await clock.advance(3 * 60_000); // clearly worse, but not for 5 min
    for (let i = 1; i <= 5; i++) owner.driver.host(`h${i}`).fault = 'none';
    await clock.advance(10 * 60_000);
    expect([...one.events, ...two.events].filter((e) => e.type === 'partition.handed-over')).to.deep.equal([]);
    expect(owner.ha.list()).to.have.length(5);
    await one.ha.stop();
    await two.ha.stop();
  });
});

describe('power-on only after the release committed (docs/behaviour.md#persistence)', () => {
  /** A store that refuses the write recording a release (as a database cut off right then would). */
  class ReleaseRefusingStore extends MemoryStateStore {
    override async saveResource(record: ResourceRecord, expected: number | null, options?: WriteOptions) {
      await this.refuseRelease(record);
      return super.saveResource(record, expected, options);
    }
    // The engine's steps write their record with their events (the outbox): the same refusal there.
    override async saveResourceWithEvents(
      record: ResourceRecord,
      expected: number | null,
      events: ReadonlyArray<Readonly<{ t: number; type: string }>>,
      options?: WriteOptions,
    ) {
      await this.refuseRelease(record);
      return super.saveResourceWithEvents(record, expected, events, options);
    }
    private async refuseRelease(record: ResourceRecord): Promise<void> {
      const before = await this.getResource(record.key);
      if (record.episode?.released && !before?.episode?.released) throw new Error('database unreachable');
    }
  }

  it('a recovery whose release write failed never sends its power-on', async () => {
    const c = await createFakeCluster({ store: new ReleaseRefusingStore(), config: { startupGrace: 0 } });
    try {
      c.provider.host('h3').crashed = true;
      await c.clock.advance(30 * 60_000);
      expect(
        c.driver.host('h3').log.filter((op) => op === 'off'),
        'the stop was sent',
      ).to.have.length.at.least(1);
      expect(
        c.driver.host('h3').log.filter((op) => op === 'on'),
        'no power-on without the release',
      ).to.deep.equal([]);
      expect(c.events.filter((e) => e.type === 'workloads.released')).to.deep.equal([]);
    } finally {
      await c.close();
    }
  });
});
