// The three ports of the KVM provider, implemented against the toy control plane.
import { delay, type Clock } from '@hafence/core';
import type {
  AgentConnectivity,
  AgentHealth,
  HeartbeatObservation,
  HeartbeatRecord,
  KvmHostFacts,
  KvmInventory,
  NeighborExecutor,
} from '@hafence/provider-kvm';
import type { ToyControlPlane } from './toy-control-plane.js';

/** Health check port: is the host's agent session up? */
export class ToyAgents implements AgentConnectivity {
  constructor(private readonly cp: ToyControlPlane) {}

  async health(host: string): Promise<AgentHealth> {
    return { connected: this.cp.hosts.get(host)?.agentConnected ?? false };
  }
}

/** Activity check port: "run this read on host X" — here, read the toy NFS map twice. */
export class ToyNeighbors implements NeighborExecutor {
  constructor(
    private readonly cp: ToyControlPlane,
    private readonly clock: Clock,
  ) {}

  async readHeartbeat(
    checker: string,
    suspect: string,
    windowMs: number,
    signal: AbortSignal,
  ): Promise<HeartbeatObservation> {
    if (!this.cp.hosts.get(checker)?.agentConnected)
      return { ok: false, reason: 'error', detail: `${checker} unreachable` };
    const read = (): HeartbeatRecord | undefined => {
      const counter = this.cp.nfs.get(`hb-${suspect}`);
      return counter === undefined ? undefined : { counter, armed: false, selfFenceAfter: 60_000, watchdog: 'none' };
    };
    const first = read();
    await delay(this.clock, windowMs, signal);
    const second = read();
    return first && second
      ? { ok: true, first, second }
      : { ok: false, reason: 'no-heartbeat', detail: `no heartbeat file for ${suspect}` };
  }
}

/** Inventory port: the KVM facts the control plane already has. */
export class ToyInventory implements KvmInventory {
  constructor(private readonly cp: ToyControlPlane) {}

  facts(host: string): KvmHostFacts | undefined {
    const h = this.cp.hosts.get(host);
    return h && { hypervisor: h.hypervisor, sharedPoolMounted: true, maintenance: h.maintenance, vms: h.vms.length };
  }
}
