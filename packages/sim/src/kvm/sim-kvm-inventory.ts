import type { KvmHostFacts, KvmInventory } from '@hafence/provider-kvm';
import type { SimKvmCluster } from './sim-kvm-cluster.js';

/** {@link KvmInventory} over a {@link SimKvmCluster}: every host is KVM with the pool mounted. */
export class SimKvmInventory implements KvmInventory {
  /** Builds the port over `sim`. */
  constructor(private readonly sim: SimKvmCluster) {}

  facts(host: string): KvmHostFacts | undefined {
    if (!this.sim.hostIds.includes(host)) return undefined;
    const h = this.sim.host(host);
    return { hypervisor: 'KVM', sharedPoolMounted: true, maintenance: h.maintenance, vms: h.vms.length };
  }
}
