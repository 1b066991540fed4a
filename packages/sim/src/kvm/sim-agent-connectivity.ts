import { delay, type Clock } from '@hafence/core';
import type { AgentConnectivity, AgentHealth, ArmRequest } from '@hafence/provider-kvm';
import type { SimKvmCluster } from './sim-kvm-cluster.js';

/**
 * {@link AgentConnectivity} over a {@link SimKvmCluster}: a request that reaches an agent
 * counts as a management-server contact (it keeps the agent from self-fencing). The
 * health answer carries the heartbeat the agent last wrote (not its state since) and the
 * `armGen` it last applied, like the real agent's.
 */
export class SimAgentConnectivity implements AgentConnectivity {
  /** Builds the port; every answer takes `latencyMs` of virtual time (default 2). */
  constructor(
    private readonly sim: SimKvmCluster,
    private readonly clock: Clock,
    private readonly latencyMs = 2,
  ) {}

  async health(host: string, signal: AbortSignal): Promise<AgentHealth> {
    await delay(this.clock, this.latencyMs, signal);
    const h = this.sim.host(host);
    const now = this.clock.now();
    if (!h.agentReachable(now)) return { connected: false, detail: detailOf(h.os) };
    h.lastMsRequestAt = now;
    const storageOk = this.sim.store.mount(host) === 'up';
    return {
      connected: true,
      storageOk,
      heartbeat: this.sim.store.readHeartbeat(host) ?? h.record(),
      armGen: h.armGen,
      ...(storageOk ? {} : { detail: 'heartbeat writes to the shared mount fail' }),
    };
  }

  async setArmed(host: string, request: ArmRequest, signal: AbortSignal): Promise<void> {
    await delay(this.clock, this.latencyMs, signal);
    const h = this.sim.host(host);
    const now = this.clock.now();
    if (!h.agentReachable(now)) throw new Error(`agent of ${host} unreachable`);
    this.sim.applyArm(host, request.armed, request.armGen);
  }
}

function detailOf(os: string): string {
  return os === 'up' ? 'no answer from the agent' : `no answer from the agent (host ${os})`;
}
