import { expect } from 'chai';
import { ArmRefusedError } from '@hafence/provider-kvm';
import { SimAgentConnectivity, SimKvmCluster, SimNeighborExecutor, type SimNote } from '@hafence/sim';
import { TestClock } from '@hafence/testkit';

const signal = () => new AbortController().signal;

function build(hosts = ['h1', 'h2', 'h3']) {
  const clock = new TestClock();
  const notes: SimNote[] = [];
  const sim = new SimKvmCluster({ clock, hosts, onNote: (n) => notes.push(n) });
  sim.start();
  return {
    clock,
    sim,
    notes,
    agents: new SimAgentConnectivity(sim, clock),
    neighbors: new SimNeighborExecutor(sim, clock),
  };
}

describe('simulated KVM cluster', () => {
  it('heartbeats advance every 10 s while the host is alive and its storage works', async () => {
    const { clock, sim, neighbors } = build();
    await clock.advance(60_000);
    const p = neighbors.readHeartbeat('h1', 'h2', 20_000, signal());
    await clock.advance(21_000);
    const obs = await p;
    expect(obs.ok).to.equal(true);
    if (obs.ok) expect(obs.second.counter - obs.first.counter).to.equal(2);
    const vols = sim.host('h2').vms.map((vm) => vm.id);
    const busy = neighbors.readHeartbeat('h1', 'h2', 20_000, signal(), vols);
    await clock.advance(21_000);
    const b = await busy;
    expect(b.ok && b.volumes?.changed).to.deep.equal(vols); // busy VMs write by default
    sim.crash('h2');
    const q = neighbors.readHeartbeat('h1', 'h2', 20_000, signal(), vols);
    await clock.advance(21_000);
    const still = await q;
    expect(still.ok && still.first.counter === still.second.counter && still.volumes?.changed.length === 0).to.equal(
      true,
    );
  });

  it('agent-crash stops the heartbeat but not the VM writes; vms-idle stops the writes', async () => {
    const { clock, sim, neighbors } = build();
    await clock.advance(30_000);
    const vols = sim.host('h2').vms.map((vm) => vm.id);
    const read = async () => {
      const p = neighbors.readHeartbeat('h1', 'h2', 20_000, signal(), vols);
      await clock.advance(21_000);
      const obs = await p;
      if (!obs.ok) throw new Error(obs.detail);
      return { beat: obs.second.counter - obs.first.counter, written: obs.volumes!.changed.length };
    };
    sim.setAgentCrashed('h2', true);
    expect(await read()).to.deep.equal({ beat: 0, written: 2 });
    expect(sim.reachablePeers('h1').map((p) => p.id)).to.not.include('h2'); // a dead agent answers no peer
    sim.setVmsBusy('h2', false);
    expect(await read()).to.deep.equal({ beat: 0, written: 0 });
    sim.setAgentCrashed('h2', false);
    sim.setVmsBusy('h2', true);
    expect(await read()).to.deep.equal({ beat: 2, written: 2 });
  });

  it('a crashed host comes back after bootTime once power cycled, unless stuck', async () => {
    const { clock, sim } = build();
    sim.crash('h2');
    sim.crash('h3', true);
    for (const id of ['h2', 'h3']) {
      sim.externalPower(id, false);
      sim.externalPower(id, true);
    }
    await clock.advance(89_000);
    expect(sim.host('h2').alive(clock.now())).to.equal(false);
    await clock.advance(2_000);
    expect(sim.host('h2').alive(clock.now())).to.equal(true);
    expect(sim.host('h3').os).to.equal('crashed');
  });

  it('agent-down: health fails but heartbeat and VMs go on', async () => {
    const { clock, sim, agents } = build();
    sim.setAgentLink('h2', false);
    const health = agents.health('h2', signal());
    await clock.advance(10);
    expect((await health).connected).to.equal(false);
    const before = sim.host('h2').counter;
    await clock.advance(120_000);
    expect(sim.host('h2').counter).to.be.greaterThan(before);
    expect(sim.host('h2').selfFences).to.equal(0);
  });

  it('an isolated armed host fences itself after selfFenceAfter: VMs stopped, watchdog reset', async () => {
    const { clock, sim, notes } = build();
    await clock.advance(30_000);
    sim.setIsolated('h2', true);
    await clock.advance(55_000);
    expect(sim.host('h2').selfFences).to.equal(0);
    await clock.advance(20_000);
    expect(sim.host('h2').selfFences).to.equal(1);
    expect(sim.host('h2').vms.every((vm) => !vm.running)).to.equal(true);
    expect(notes.map((n) => n.type)).to.include('sim.self-fence');
  });

  it('a disarmed isolated host holds; a shared storage outage with the MS reaching the agents holds too', async () => {
    const { clock, sim, agents } = build();
    const arm = agents.setArmed('h2', { armed: false, armGen: 1 }, signal());
    await clock.advance(10);
    await arm;
    sim.setIsolated('h2', true);
    sim.setStorage('down');
    for (let i = 0; i < 30; i++) {
      const probes = ['h1', 'h3'].map((h) => agents.health(h, signal()));
      await clock.advance(10_000);
      await Promise.all(probes);
    }
    expect(sim.hostIds.map((h) => sim.host(h).selfFences)).to.deep.equal([0, 0, 0]);
  });

  it('an agent applies arm requests in armGen order, refuses a lower one, and echoes the applied gen', async () => {
    const { clock, sim, agents } = build();
    // The outcome (undefined, or the error) is taken at once: a rejection must never wait unhandled.
    const send = async (armed: boolean, armGen: number) => {
      const p = agents.setArmed('h2', { armed, armGen }, signal()).then(
        () => undefined,
        (err: unknown) => err,
      );
      await clock.advance(10);
      return p;
    };
    expect(await send(false, 3)).to.equal(undefined);
    const refused = await send(true, 2);
    expect(refused).to.be.instanceOf(ArmRefusedError).and.include({ code: 'HAF5105', armGen: 2, applied: 3 });
    expect(sim.host('h2')).to.include({ armed: false, armGen: 3 });
    await clock.advance(10_000);
    expect(sim.store.readHeartbeat('h2')).to.include({ armed: false, armGen: 3 });
    const health = agents.health('h2', signal());
    await clock.advance(10);
    expect(await health).to.include({ armGen: 3 });
  });

  it('isolate when: next-arm-request cuts the host off right after its agent applied the request, before a heartbeat shows it', async () => {
    const { clock, sim, agents, notes } = build();
    await clock.advance(10_000);
    sim.isolateOnArmRequest('h2');
    expect(sim.host('h2').isolated).to.equal(false);
    const arm = agents.setArmed('h2', { armed: false, armGen: 1 }, signal());
    await clock.advance(10);
    await arm;
    expect(sim.host('h2')).to.include({ isolated: true, armed: false, armGen: 1 });
    expect(notes.map((n) => n.type)).to.include('sim.cut-off-after-arm-request');
    await clock.advance(60_000);
    expect(sim.store.readHeartbeat('h2'), 'the last heartbeat written still says armed').to.include({
      armed: true,
      armGen: 0,
    });
  });

  it('storage down for all, no MS contact: a majority of peers shares the loss, nobody self-fences', async () => {
    const { clock, sim } = build();
    sim.setStorage('down');
    await clock.advance(10 * 60_000);
    expect(sim.hostIds.map((h) => sim.host(h).selfFences)).to.deep.equal([0, 0, 0]);
  });

  it('a checker with a hung mount never answers until the caller gives up', async () => {
    const { clock, sim, neighbors } = build();
    sim.setStorage('hang', ['h1']);
    const ctl = new AbortController();
    let settled = false;
    const p = neighbors.readHeartbeat('h1', 'h2', 20_000, ctl.signal).then(
      () => (settled = true),
      () => (settled = true),
    );
    await clock.advance(60_000);
    expect(settled).to.equal(false);
    ctl.abort(new Error('reply timeout'));
    await p;
    expect(settled).to.equal(true);
  });

  it('power-loss: chassis OFF and BMC unreachable; power-restore: BMC answers, chassis stays OFF', () => {
    const { sim } = build();
    sim.setPowerLoss('h2', true);
    expect(sim.bmc.host('h2')).to.deep.include({ power: 'OFF', fault: 'down' });
    expect(sim.host('h2').os).to.equal('off');
    sim.setPowerLoss('h2', false);
    expect(sim.bmc.host('h2')).to.deep.include({ power: 'OFF', fault: 'none' });
  });

  it('checkRelease flags a release while the VMs still run (ground truth for the scenario suite)', async () => {
    const { clock, sim, notes } = build();
    await clock.advance(1000);
    expect(sim.checkRelease('h1')).to.equal(false);
    expect(notes.map((n) => n.type)).to.include('sim.unsafe-release');
    sim.crash('h2');
    sim.externalPower('h2', false);
    expect(sim.checkRelease('h2')).to.equal(true);
  });
});
