import { expect } from 'chai';
import { ConfigError, type MemoryInventory, type ResourceSpec } from '@hafence/core';
import { KvmProvider, MemoryArmRecords, type KvmAlert } from '@hafence/provider-kvm';
import { TestClock } from '@hafence/testkit';
import { at } from './helpers/at.js';
import { ctxOf, FakeKvm, inventoryOf, viewOf } from './helpers/fake-ports.js';

const S = 1_000;

describe('KVM provider: eligibility, cluster rule, health and relative activity checks', () => {
  let clock: TestClock;
  let kvm: FakeKvm;
  let inventory: MemoryInventory;
  let specs: ResourceSpec[];
  let power: Record<string, 'ON' | 'OFF' | 'UNKNOWN'>;
  let provider: KvmProvider;
  let alerts: KvmAlert[];

  beforeEach(() => {
    clock = new TestClock();
    kvm = new FakeKvm(clock);
    ({ inventory, specs } = inventoryOf(4));
    for (const s of specs) kvm.host(s.ref.id);
    power = { h1: 'ON', h2: 'ON', h3: 'ON', h4: 'ON' };
    provider = new KvmProvider({
      agents: kvm,
      neighbors: kvm,
      inventory: kvm,
      volumes: kvm,
      clock,
      powerState: (h) => power[h],
    });
    alerts = [];
    provider.onAlert((a) => alerts.push(a));
  });

  const ctx = (state: Parameters<typeof ctxOf>[2] = 'AVAILABLE') => ctxOf(clock, inventory, state);

  it('validates its options: the activity window is at least two heartbeats', () => {
    expect(
      () =>
        new KvmProvider({
          agents: kvm,
          neighbors: kvm,
          inventory: kvm,
          heartbeatIntervalMs: 10 * S,
          activityWindowMs: 15 * S,
        }),
    ).to.throw(ConfigError, /activityWindowMs/);
  });

  it('eligible: KVM, shared pool mounted, power ON; OFF, other hypervisors and unmounted pools are not', async () => {
    expect((await provider.isEligible(at(specs, 0), ctx())).ok).to.equal(true);
    kvm.host('h2').facts = { ...kvm.host('h2').facts, hypervisor: 'XenServer' };
    kvm.host('h3').facts = { ...kvm.host('h3').facts, sharedPoolMounted: false };
    power.h4 = 'OFF';
    expect(await provider.isEligible(at(specs, 1), ctx())).to.deep.include({ ok: false });
    expect((await provider.isEligible(at(specs, 2), ctx())).reason).to.match(/not mounted/);
    expect((await provider.isEligible(at(specs, 3), ctx())).reason).to.match(/power OFF/);
  });

  it('power UNKNOWN: eligible only in lease-only mode, when the agent reported an armed lease this server armed', async () => {
    power.h1 = 'UNKNOWN';
    // An agent that cannot be told anything: unarmed, then armed by someone else (no record here).
    const deaf = new KvmProvider({
      agents: { health: kvm.health.bind(kvm) },
      neighbors: kvm,
      inventory: kvm,
      clock,
      powerState: (h) => power[h],
    });
    kvm.host('h1').armed = false;
    await deaf.healthCheck(at(specs, 0), ctx());
    expect((await deaf.isEligible(at(specs, 0), ctx())).ok).to.equal(false);
    Object.assign(kvm.host('h1'), { armed: true, armGen: 7 });
    await deaf.healthCheck(at(specs, 0), ctx());
    expect((await deaf.isEligible(at(specs, 0), ctx())).ok, 'armed by a gen this server never recorded').to.equal(
      false,
    );
    // This server arms it (armGen above the one it reports) and the heartbeat echoes it.
    await provider.healthCheck(at(specs, 0), ctx());
    expect(kvm.armCalls).to.deep.equal([{ host: 'h1', armed: true, armGen: 8 }]);
    await provider.healthCheck(at(specs, 0), ctx()); // a heartbeat echoing armGen 8
    const v = await provider.isEligible(at(specs, 0), ctx());
    expect(v.ok).to.equal(true);
    expect(v.reason).to.match(/lease-only/);
  });

  it('power UNKNOWN right after a restart: asks the agent once (and re-arms it with its own armGen) instead of flapping to UNSUPPORTED', async () => {
    power.h1 = 'UNKNOWN';
    // Armed by a previous life of this server (no record here): re-armed, acknowledged, protected.
    const v = await provider.isEligible(at(specs, 0), ctx());
    expect(v.ok).to.equal(true);
    expect(kvm.sentTo('h1', 'health')).to.equal(1);
    expect(kvm.armCalls).to.deep.equal([{ host: 'h1', armed: true, armGen: 1 }]);
    await provider.isEligible(at(specs, 0), ctx());
    expect(kvm.sentTo('h1', 'health')).to.equal(1);
  });

  it('cluster rule: cluster, pod and zone enabled; ≥ 2 eligible healthy members, a host in an episode still counting', async () => {
    const two = viewOf(inventory, {
      h3: { eligible: false },
      h4: { eligible: false },
      h2: { healthy: false, inEpisode: true, state: 'SUSPECT' },
    });
    expect((await provider.partitionConditions(two)).ok).to.equal(true);
    const one = viewOf(inventory, {
      h3: { eligible: false },
      h4: { eligible: false },
      h2: { healthy: false, inEpisode: false },
    });
    expect((await provider.partitionConditions(one)).ok).to.equal(false);
    const podOff = inventoryOf(4, { podEnabled: false }).inventory;
    expect((await provider.partitionConditions(viewOf(podOff))).reason).to.match(/pod p1 is disabled/);
  });

  it('health is the agent connection; storage failure is reported but the host stays healthy', async () => {
    expect(await provider.healthCheck(at(specs, 0), ctx())).to.deep.equal({ healthy: true });
    kvm.host('h1').storageOk = false;
    expect((await provider.healthCheck(at(specs, 0), ctx())).reason).to.match(/storage failing/);
    kvm.host('h1').agentUp = false;
    expect((await provider.healthCheck(at(specs, 0), ctx())).healthy).to.equal(false);
  });

  it('arms the agent while HA is enabled for its host, and disarms it in maintenance, each with a new armGen', async () => {
    kvm.host('h1').armed = false;
    await provider.healthCheck(at(specs, 0), ctx());
    expect(kvm.armCalls).to.deep.equal([{ host: 'h1', armed: true, armGen: 1 }]);
    await provider.healthCheck(at(specs, 0), ctx());
    expect(kvm.armCalls, 'applied: not sent again').to.have.length(1);
    kvm.host('h1').facts = { ...kvm.host('h1').facts, maintenance: true };
    await provider.healthCheck(at(specs, 0), ctx());
    expect(kvm.armCalls[1]).to.deep.equal({ host: 'h1', armed: false, armGen: 2 });
    kvm.host('h1').facts = { ...kvm.host('h1').facts, maintenance: false };
    await provider.healthCheck(at(specs, 0), ctx());
    expect(kvm.armCalls[2]).to.deep.equal({ host: 'h1', armed: true, armGen: 3 });
  });

  it('disarms the agent while an operator holds its host in maintenance through hafence, and arms it after', async () => {
    kvm.host('h1').armed = false;
    await provider.healthCheck(at(specs, 0), ctx());
    expect(kvm.armCalls).to.deep.equal([{ host: 'h1', armed: true, armGen: 1 }]);
    await provider.healthCheck(at(specs, 0), { ...ctx(), operatorMaintenance: true });
    expect(kvm.armCalls[1]).to.deep.equal({ host: 'h1', armed: false, armGen: 2 });
    await provider.healthCheck(at(specs, 0), { ...ctx(), operatorMaintenance: true });
    expect(kvm.armCalls, 'applied: not sent again').to.have.length(2);
    await provider.healthCheck(at(specs, 0), ctx());
    expect(kvm.armCalls[2]).to.deep.equal({ host: 'h1', armed: true, armGen: 3 });
  });

  it('records every arm/disarm before it is sent', async () => {
    const seen: string[] = [];
    const records = new MemoryArmRecords();
    const recording = new KvmProvider({
      agents: kvm,
      neighbors: kvm,
      inventory: kvm,
      clock,
      powerState: (h) => power[h],
      armRecords: {
        record: async (host, rec) => {
          seen.push(`record ${rec.gen}`);
          await records.record(host, rec);
        },
        latest: (host) => records.latest(host),
      },
    });
    const setArmed = kvm.setArmed.bind(kvm);
    kvm.setArmed = async (host, request) => {
      seen.push(`send ${request.armGen}`);
      await setArmed(host, request);
    };
    kvm.host('h1').facts = { ...kvm.host('h1').facts, maintenance: true };
    await recording.healthCheck(at(specs, 0), ctx());
    kvm.host('h1').facts = { ...kvm.host('h1').facts, maintenance: false };
    await recording.healthCheck(at(specs, 0), ctx());
    expect(seen).to.deep.equal(['record 1', 'send 1', 'record 2', 'send 2']);
    expect(await records.latest('h1')).to.include({ gen: 2, armed: true });
  });

  it('a request the agent did not apply is sent again with the same armGen; a higher applied gen gets a new one above it', async () => {
    const setArmed = kvm.setArmed.bind(kvm);
    let fail = true;
    kvm.setArmed = async (host, request) => {
      if (fail) throw new Error('connection reset');
      await setArmed(host, request);
    };
    kvm.host('h1').armed = false;
    await provider.healthCheck(at(specs, 0), ctx());
    fail = false;
    await provider.healthCheck(at(specs, 0), ctx());
    expect(kvm.armCalls).to.deep.equal([{ host: 'h1', armed: true, armGen: 1 }]);
    expect(kvm.host('h1')).to.include({ armed: true, armGen: 1 });
    Object.assign(kvm.host('h1'), { armed: false, armGen: 0 }); // the agent restarted: it forgot the gen
    await provider.healthCheck(at(specs, 0), ctx());
    expect(kvm.armCalls[1], 'sent again, same gen').to.deep.equal({ host: 'h1', armed: true, armGen: 1 });
    kvm.armCalls.splice(1);
    kvm.host('h1').armGen = 5; // armed by another server meanwhile
    await provider.healthCheck(at(specs, 0), ctx());
    expect(kvm.armCalls[1]).to.deep.equal({ host: 'h1', armed: true, armGen: 6 });
  });

  describe('activity check', () => {
    beforeEach(async () => {
      await provider.partitionConditions(
        viewOf(inventory, { h1: { state: 'CHECKING', healthy: false, inEpisode: true } }),
      );
    });

    async function check(): Promise<{ verdict: string; reason?: string }> {
      const run = provider.activityCheck(at(specs, 0), ctx('CHECKING'));
      await clock.advance(60 * S);
      return run;
    }

    it('reads twice a window apart on an AVAILABLE neighbour: changed content is activity', async () => {
      const r = await check();
      expect(r.verdict).to.equal('active');
      expect(kvm.sentTo('h1', 'read')).to.equal(0); // the suspect is never its own checker
    });

    it('unchanged content is "inactive"; changed VM volumes may only prove activity', async () => {
      kvm.host('h1').alive = false;
      const quiet = await check();
      expect(quiet.verdict).to.equal('inactive');
      expect(quiet.reason).to.match(/1 VM volume\(s\) unchanged/);
      kvm.host('h1').vmsWriting = true;
      const busy = await check();
      expect(busy.verdict).to.equal('active');
      expect(busy.reason).to.include('/mnt/pool/h1-vm1.qcow2'); // the reason names the volume
    });

    it('a VM volume that cannot be read makes the check an error, never "inactive"', async () => {
      kvm.host('h1').alive = false;
      for (const h of ['h2', 'h3', 'h4']) kvm.host(h).volumeReadsFail = true;
      const r = await check();
      expect(r.verdict).to.equal('error');
      expect(r.reason).to.match(/could not be read \(\/mnt\/pool\/h1-vm1\.qcow2: no answer within/);
    });

    it('a checker that ignores the volumes it was asked for gives an error, not "inactive"', async () => {
      kvm.host('h1').alive = false;
      const old = new KvmProvider({
        agents: kvm,
        inventory: kvm,
        volumes: kvm,
        clock,
        powerState: (h) => power[h],
        neighbors: { readHeartbeat: (c, s, w, sig) => kvm.readHeartbeat(c, s, w, sig) },
        // an agent without volume reads
      });
      await old.partitionConditions(viewOf(inventory, { h1: { state: 'CHECKING', healthy: false, inEpisode: true } }));
      const run = old.activityCheck(at(specs, 0), ctx('CHECKING'));
      await clock.advance(60 * S);
      const r = await run;
      expect(r.verdict).to.equal('error');
      expect(r.reason).to.match(/did not read the 1 VM volume/);
    });

    it('without a volume list (never known) the heartbeat alone decides, and says so', async () => {
      kvm.host('h1').alive = false;
      kvm.host('h1').vmsWriting = true;
      const blind = new KvmProvider({
        agents: kvm,
        neighbors: kvm,
        inventory: kvm,
        volumes: { volumesOf: () => undefined },
        clock,
        powerState: (h) => power[h],
      });
      await blind.partitionConditions(
        viewOf(inventory, { h1: { state: 'CHECKING', healthy: false, inEpisode: true } }),
      );
      const run = blind.activityCheck(at(specs, 0), ctx('CHECKING'));
      await clock.advance(60 * S);
      const r = await run;
      expect(r.verdict).to.equal('inactive');
      expect(r.reason).to.match(/VM volumes unknown/);
      expect(kvm.lastVolumesAsked).to.equal(undefined);
    });

    it('asks for at most maxVolumesPerCheck volumes, every VM in turn across checks', async () => {
      kvm.host('h1').alive = false;
      kvm.host('h1').vms = Array.from({ length: 6 }, (_, i) => ({ vm: `vm${i}`, volume: `/mnt/pool/vm${i}-disk` }));
      const bounded = new KvmProvider({
        agents: kvm,
        neighbors: kvm,
        inventory: kvm,
        volumes: kvm,
        clock,
        maxVolumesPerCheck: 4,
        powerState: (h) => power[h],
      });
      await bounded.partitionConditions(
        viewOf(inventory, { h1: { state: 'CHECKING', healthy: false, inEpisode: true } }),
      );
      const asked = new Set<string>();
      for (let i = 0; i < 2; i++) {
        const run = bounded.activityCheck(at(specs, 0), ctx('CHECKING'));
        await clock.advance(60 * S);
        expect((await run).reason).to.match(/sampled 4 of 6/);
        expect(kvm.lastVolumesAsked).to.have.length(4);
        for (const v of kvm.lastVolumesAsked!) asked.add(v);
      }
      expect(asked.size).to.equal(6); // two checks cover all six VMs
    });

    it('no reply within window + reply timeout is an error, never "no activity"', async () => {
      kvm.host('h1').alive = false;
      for (const h of ['h2', 'h3', 'h4']) kvm.host(h).reads = 'hang';
      const run = provider.activityCheck(at(specs, 0), ctx('CHECKING'));
      await clock.advance(180 * S); // each checker: window + reply timeout, then the next one
      const r = await run;
      expect(r.verdict).to.equal('error');
      expect(r.reason).to.match(/no AVAILABLE neighbour could read the shared mount/);
      // a checker whose read hangs cannot read the mount: excluded, with an alert, one by one
      expect(alerts.map((a) => a.host).sort()).to.deep.equal(['h2', 'h3', 'h4']);
      expect(alerts.every((a) => a.code === 'checker-excluded' && /no reply from h\d within/.test(a.message))).to.equal(
        true,
      );
    });

    it('a checker that cannot read the mount is excluded with an alert, and another neighbour is asked', async () => {
      kvm.host('h2').reads = 'mount-unreadable';
      kvm.host('h3').reads = 'mount-unreadable';
      kvm.host('h1').alive = false;
      const r = await check();
      expect(r.verdict).to.equal('inactive');
      expect(r.reason).to.include('h4');
      expect(alerts.map((a) => a.host).sort()).to.deep.equal(['h2', 'h3']);
      for (let i = 0; i < 3; i++) await check();
      expect(kvm.sentTo('h2', 'read') + kvm.sentTo('h3', 'read')).to.equal(2); // excluded since
      // h2 reads again: its health answer says storage is fine → readmitted
      await provider.healthCheck(at(specs, 1), ctx());
      kvm.host('h4').reads = 'hang';
      kvm.host('h2').reads = 'ok';
      const again = await check();
      expect(again.reason).to.satisfy((s: string) => s.includes('h2') || s.includes('h4'));
      expect(alerts).to.have.length(2);
    });

    it('every neighbour unable to read, or none AVAILABLE, is an error', async () => {
      for (const h of ['h2', 'h3', 'h4']) kvm.host(h).reads = 'mount-unreadable';
      expect((await check()).verdict).to.equal('error');
      await provider.partitionConditions(
        viewOf(inventory, { h2: { state: 'SUSPECT' }, h3: { state: 'INITIALIZING' }, h4: { state: 'NONE' } }),
      );
      const r = await check();
      expect(r.verdict).to.equal('error');
      expect(r.reason).to.match(/no AVAILABLE neighbour/);
    });
  });
});
