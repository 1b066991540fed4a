// Embedding hafence in a control plane: implement the KVM provider's ports against your
// inventory, give the engine your BMCs, and restart VMs when — and only when — it emits
// `workloads.released`. Runs in virtual time here; pass the system clock in production.
import 'reflect-metadata';
import { HaService, PowerManagementService, Secret, type HaEvent } from '@hafence/core';
import { KvmProvider } from '@hafence/provider-kvm';
import { FakePowerDriver, TestClock } from '@hafence/testkit';
import { ToyControlPlane } from './toy-control-plane.js';
import { ToyAgents, ToyInventory, ToyNeighbors } from './toy-ports.js';

/** Runs the example: 4 hosts, `kvm-2` crashes; returns what the control plane did. */
export async function runEmbedExample(): Promise<string[]> {
  const clock = new TestClock();
  const cp = new ToyControlPlane(clock, 4);
  // In production: new IpmiPowerDriver() from @hafence/power-ipmi, or the script driver.
  const bmcs = new FakePowerDriver({ clock, password: 'bmc-pw', latencyMs: 5 });
  const power = new PowerManagementService({ clock, drivers: [bmcs], config: { defaultPowerDrivers: ['fake'] } });
  const provider = new KvmProvider({
    agents: new ToyAgents(cp),
    neighbors: new ToyNeighbors(cp, clock),
    inventory: new ToyInventory(cp),
    clock,
    powerState: (h) => power.state(h),
  });
  const ha = new HaService({ providers: [provider], clock, power, config: { startupGrace: '1m' } });
  const log: string[] = [];
  ha.events$.subscribe((e: HaEvent) => {
    if (e.type === 'workloads.released')
      log.push(`released ${e.resource} (${e.proof}): ${cp.restartElsewhere(e.resource).join(', ')}`);
    if (e.type === 'resource.transition' && e.resource === 'kvm-2') log.push(`kvm-2 ${e.from} → ${e.to}`);
  });
  await ha.start();
  await ha.addPartition({ id: 'zone-a', kind: 'zone', enabled: true, haEnabled: true });
  await ha.addPartition({ id: 'pod-a', kind: 'pod', parent: 'zone-a', enabled: true, haEnabled: true });
  await ha.addPartition({ id: 'cluster-a', kind: 'cluster', parent: 'pod-a', enabled: true, haEnabled: true });
  for (const id of cp.hosts.keys()) {
    const binding = {
      target: { host: id, address: `bmc-${id}.example`, username: 'admin', password: new Secret('bmc-pw') },
    };
    await ha.addResource({ ref: { type: 'host', id }, partition: 'cluster-a', power: binding });
  }
  power.startSync();
  await clock.advance(2 * 60_000);
  cp.crash('kvm-2');
  await clock.advance(10 * 60_000);
  power.stopSync();
  await ha.stop();
  await power.close();
  return log;
}

if (process.argv[1]?.endsWith('embed.js')) for (const line of await runEmbedExample()) console.log(line);
