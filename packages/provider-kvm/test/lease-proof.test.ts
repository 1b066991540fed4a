import { expect } from 'chai';
import type { MemoryInventory, ResourceSpec, ResourceState } from '@hafence/core';
import { KvmProvider } from '@hafence/provider-kvm';
import { TestClock } from '@hafence/testkit';
import { at } from './helpers/at.js';
import { ctxOf, FakeKvm, inventoryOf, viewOf } from './helpers/fake-ports.js';

const S = 1_000;
const SPAN = 60 * S + 30 * S; // selfFenceAfter + margin

describe('KVM provider: self-fence lease proof (SPEC §5.1)', () => {
  let clock: TestClock;
  let kvm: FakeKvm;
  let inventory: MemoryInventory;
  let specs: ResourceSpec[];
  let provider: KvmProvider;
  let power: Record<string, 'ON' | 'OFF' | 'UNKNOWN'>;

  beforeEach(async () => {
    clock = new TestClock();
    kvm = new FakeKvm(clock);
    ({ inventory, specs } = inventoryOf(3));
    for (const s of specs) kvm.host(s.ref.id);
    power = { h1: 'ON', h2: 'ON', h3: 'ON' };
    provider = new KvmProvider({ agents: kvm, neighbors: kvm, inventory: kvm, clock, powerState: (h) => power[h] });
    await provider.partitionConditions(
      viewOf(inventory, { h1: { state: 'SUSPECT', healthy: false, inEpisode: true } }),
    );
    await provider.healthCheck(at(specs, 0), ctxOf(clock, inventory, 'AVAILABLE')); // arms it (armGen 1)
    await provider.healthCheck(at(specs, 0), ctxOf(clock, inventory, 'AVAILABLE')); // learns: armed, echoing armGen 1
  });

  async function lease(state: ResourceState = 'FENCING') {
    const p = provider.selfFenceLease(at(specs, 0), ctxOf(clock, inventory, state));
    await clock.advance(0);
    return p;
  }

  /** The host dies: heartbeat frozen, agent and peers lose it. */
  function die(): void {
    Object.assign(kvm.host('h1'), { alive: false, agentUp: false });
  }

  it('outside FENCING/FAILED it only says whether the host is protected by an armed lease', async () => {
    expect((await lease('AVAILABLE')).state).to.equal('pending');
    kvm.host('h1').armed = false;
    await provider.healthCheck(at(specs, 0), ctxOf(clock, inventory, 'AVAILABLE'));
    expect(await lease('AVAILABLE')).to.deep.include({ state: 'none' });
  });

  it('a dead armed host: pending until selfFenceAfter + margin after the last request sent, then expired', async () => {
    die();
    const lastSent = clock.now();
    await clock.advance(5 * S);
    const first = await lease();
    expect(first.state).to.equal('pending');
    expect((first as { deadline: number }).deadline).to.equal(lastSent + SPAN + 5 * S); // content first seen now
    // FENCING: health checks no longer contact its agent (a one-way link cannot keep it alive)
    const before = kvm.sentTo('h1');
    for (let i = 0; i < 9; i++) {
      await clock.advance(10 * S);
      expect((await provider.healthCheck(at(specs, 0), ctxOf(clock, inventory, 'FENCING'))).healthy).to.equal(false);
    }
    expect(kvm.sentTo('h1')).to.equal(before);
    await clock.advanceTo((first as { deadline: number }).deadline);
    const done = await lease();
    expect(done.state).to.equal('expired');
    expect((done as { evidence: string }).evidence).to.match(
      /armed.*unchanged.*2 of 2 reachable peers cannot reach it/,
    );
  });

  it("the agent's own reset margin wins over a smaller configured margin", async () => {
    kvm.host('h1').resetMarginMs = 45 * S;
    await provider.healthCheck(at(specs, 0), ctxOf(clock, inventory, 'AVAILABLE'));
    const lastSent = clock.now();
    die();
    const r = await lease();
    expect((r as { deadline: number }).deadline).to.equal(lastSent + 60 * S + 45 * S);
  });

  it('a heartbeat that keeps changing never expires (and the host is contacted again)', async () => {
    kvm.host('h1').agentUp = false; // only the control link is down
    await lease();
    for (let i = 0; i < 10; i++) {
      await clock.advance(30 * S);
      expect((await lease()).state).to.equal('pending');
    }
    await provider.healthCheck(at(specs, 0), ctxOf(clock, inventory, 'FAILED'));
    expect(kvm.sentTo('h1', 'health')).to.be.greaterThan(1);
  });

  it('a request sent to the agent restarts the span (condition 2)', async () => {
    die();
    await lease();
    await clock.advance(SPAN - 10 * S);
    await provider.healthCheck(at(specs, 0), ctxOf(clock, inventory, 'RECOVERING')); // not yet lease mode: sent
    const again = await lease();
    expect(again.state).to.equal('pending');
    expect((again as { deadline: number }).deadline).to.equal(clock.now() + SPAN);
  });

  it('no expiry when a majority of reachable peers still reach it (condition 4)', async () => {
    die();
    kvm.host('h2').reaches = () => true;
    kvm.host('h3').reaches = () => true;
    await lease();
    await clock.advance(SPAN + S);
    const r = await lease();
    expect(r).to.deep.include({ state: 'none' });
    expect((r as { reason: string }).reason).to.match(/still reach it/);
  });

  it('unreachable peers do not count; with none reachable there is no proof', async () => {
    die();
    kvm.host('h2').peerUp = false;
    await lease();
    await clock.advance(SPAN + S);
    expect((await lease()).state).to.equal('expired'); // 1 of 1 reachable peer cannot reach it
    kvm.host('h3').peerUp = false;
    expect(await lease()).to.deep.include({ state: 'none' });
  });

  it('an unarmed last heartbeat, or no way to ask peers, is never proof', async () => {
    kvm.host('h1').armed = false;
    die();
    await lease();
    await clock.advance(SPAN + S);
    expect((await lease()).state).to.equal('none');
    const noPeers = new KvmProvider({
      agents: kvm,
      neighbors: { readHeartbeat: kvm.readHeartbeat.bind(kvm) },
      inventory: kvm,
      clock,
    });
    const r = await noPeers.selfFenceLease(at(specs, 0), ctxOf(clock, inventory, 'FENCING'));
    expect((r as { reason: string }).reason).to.match(/condition 4/);
  });

  /** Switches HA for cluster c1 on or off in the control plane's inventory. */
  function setHa(haEnabled: boolean): void {
    inventory.putPartition({ id: 'c1', kind: 'cluster', parent: 'p1', enabled: true, haEnabled });
  }

  it('a disarm sent after the last armed heartbeat voids the lease: cut off before a heartbeat shows it, never expired (issue 8)', async () => {
    // HA is disabled: the provider disarms the agent, which applies it, but the host is cut
    // off before any heartbeat says so — the last heartbeat keeps its stale `armed: true`.
    setHa(false);
    kvm.setArmed = async () => {
      die();
    };
    await provider.healthCheck(at(specs, 0), ctxOf(clock, inventory, 'NONE'));
    expect(kvm.host('h1').armed, 'the stale heartbeat still says armed').to.equal(true);
    expect(await lease('NONE'), 'no lease-only protection after an unconfirmed disarm').to.deep.include({
      state: 'none',
    });
    setHa(true); // HA back on: the host is found dead; every other condition of the lease holds
    await clock.advance(5 * S);
    expect((await provider.healthCheck(at(specs, 0), ctxOf(clock, inventory, 'AVAILABLE'))).healthy).to.equal(false);
    await lease();
    for (let i = 0; i < 6; i++) {
      await clock.advance(SPAN / 3);
      expect((await lease()).state).to.not.equal('expired');
    }
    expect(await lease()).to.deep.include({ state: 'none' });
  });

  it('a heartbeat echoing the disarm, then a later arm echoed: the lease works again', async () => {
    setHa(false);
    await provider.healthCheck(at(specs, 0), ctxOf(clock, inventory, 'NONE'));
    expect(kvm.host('h1')).to.include({ armed: false, armGen: 2 });
    expect(await lease('NONE')).to.deep.include({ state: 'none' });
    setHa(true);
    await provider.healthCheck(at(specs, 0), ctxOf(clock, inventory, 'AVAILABLE'));
    expect(kvm.armCalls.map((c) => [c.armed, c.armGen])).to.deep.equal([
      [true, 1],
      [false, 2],
      [true, 3],
    ]);
    expect(await lease('AVAILABLE'), 'arm sent, not yet echoed').to.deep.include({ state: 'none' });
    await provider.healthCheck(at(specs, 0), ctxOf(clock, inventory, 'AVAILABLE'));
    expect((await lease('AVAILABLE')).state).to.equal('pending');
    const lastSent = clock.now();
    die();
    await lease();
    await clock.advanceTo(lastSent + SPAN);
    expect((await lease()).state).to.equal('expired');
  });

  it('a host armed by a gen this server never recorded has no lease until it arms the host itself', async () => {
    const noArming = new KvmProvider({
      agents: { health: kvm.health.bind(kvm) },
      neighbors: kvm,
      inventory: kvm,
      clock,
      powerState: (h) => power[h],
    });
    await noArming.partitionConditions(
      viewOf(inventory, { h1: { state: 'SUSPECT', healthy: false, inEpisode: true } }),
    );
    await noArming.healthCheck(at(specs, 0), ctxOf(clock, inventory, 'AVAILABLE')); // armed, armGen 1 (recorded by another provider)
    const lastSent = clock.now();
    die();
    await clock.advanceTo(lastSent + SPAN + S);
    const first = noArming.selfFenceLease(at(specs, 0), ctxOf(clock, inventory, 'FENCING'));
    await clock.advance(0);
    await first;
    const r = noArming.selfFenceLease(at(specs, 0), ctxOf(clock, inventory, 'FENCING'));
    await clock.advance(0);
    expect(await r).to.deep.include({ state: 'none' });
  });

  it('power UNKNOWN during an episode: the agent is not contacted while its heartbeat is frozen', async () => {
    power.h1 = 'UNKNOWN';
    die();
    const read = provider.activityCheck(at(specs, 0), ctxOf(clock, inventory, 'CHECKING'));
    await clock.advance(60 * S);
    expect((await read).verdict).to.equal('inactive');
    const before = kvm.sentTo('h1');
    const h = await provider.healthCheck(at(specs, 0), ctxOf(clock, inventory, 'SUSPECT'));
    expect(h.reason).to.match(/self-fence lease/);
    expect(kvm.sentTo('h1')).to.equal(before);
  });
});
