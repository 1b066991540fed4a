import type { VmVolume, VmVolumeDirectory } from '@hafence/provider-kvm';
import type { SimKvmCluster } from './sim-kvm-cluster.js';

/**
 * {@link VmVolumeDirectory} over a {@link SimKvmCluster}: the control plane's record of
 * each host's running VMs (one volume each, named after the VM). Like a control plane's,
 * it does not change when a host crashes; the VMs a power cycle or fence stopped drop out.
 */
export class SimVolumeDirectory implements VmVolumeDirectory {
  /** Reads the simulation's VM table. */
  constructor(private readonly sim: SimKvmCluster) {}

  volumesOf(host: string): readonly VmVolume[] {
    return this.sim
      .host(host)
      .vms.filter((vm) => vm.running)
      .map((vm) => ({ vm: vm.id, volume: vm.id }));
  }
}
