// A toy control plane: what a cloud already knows about its hosts. Yours has a database,
// agent sessions and a way to run a command on a host; this one keeps them in memory.
import type { Clock } from '@hafence/core';

/** One host as the toy control plane knows it. */
export interface ToyHost {
  readonly id: string;
  readonly hypervisor: 'KVM' | 'VMware';
  maintenance: boolean;
  /** VMs placed on the host (on shared storage). */
  vms: string[];
  /** The agent's session with the control plane is up. */
  agentConnected: boolean;
  /** The host is alive (its agent writes its heartbeat file). */
  alive: boolean;
}

/** The toy control plane: an inventory, agent sessions, and the shared NFS mount. */
export class ToyControlPlane {
  readonly hosts = new Map<string, ToyHost>();
  /** The shared mount's heartbeat files: `hb-<host>` → counter. */
  readonly nfs = new Map<string, number>();

  /** Adds `count` KVM hosts with two VMs each, and starts their heartbeat writers. */
  constructor(
    private readonly clock: Clock,
    count: number,
  ) {
    for (let i = 1; i <= count; i++) {
      const id = `kvm-${i}`;
      this.hosts.set(id, {
        id,
        hypervisor: 'KVM',
        maintenance: false,
        vms: [`vm-${i}a`, `vm-${i}b`],
        agentConnected: true,
        alive: true,
      });
    }
    const beat = () => {
      for (const h of this.hosts.values())
        if (h.alive) this.nfs.set(`hb-${h.id}`, (this.nfs.get(`hb-${h.id}`) ?? 0) + 1);
      this.clock.setTimeout(beat, 10_000);
    };
    beat();
  }

  /** A host dies: its session drops and its heartbeat stops. */
  crash(id: string): void {
    Object.assign(this.hosts.get(id)!, { alive: false, agentConnected: false });
  }

  /** Restarts a released host's VMs on the other hosts (what the control plane does on release). */
  restartElsewhere(id: string): string[] {
    const from = this.hosts.get(id)!;
    const targets = [...this.hosts.values()].filter((h) => h.id !== id && h.alive && !h.maintenance);
    const moved: string[] = [];
    const stranded: string[] = [];
    for (const [i, vm] of from.vms.entries()) {
      const to = targets[i % targets.length];
      if (to) {
        to.vms.push(vm);
        moved.push(`${vm} → ${to.id}`);
      } else {
        stranded.push(vm); // no live host to take it: it stays where it was
      }
    }
    from.vms = stranded;
    return moved;
  }
}
