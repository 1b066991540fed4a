// TEMPORARY stand-in until @hafence/provider-kvm exports KvmProvider. Not exported.
import { delay, type ActivityResult, type FenceResult, type HAProvider, type HealthResult, type LeaseStatus, type PartitionView, type ProviderContext, type RecoverResult, type ResourceSpec, type Verdict, type Clock } from '@hafence/core';
import type { AgentConnectivity, KvmInventory, NeighborExecutor } from '@hafence/provider-kvm';

export interface TmpOpts { agents: AgentConnectivity; neighbors: NeighborExecutor; inventory: KvmInventory; clock: Clock; activityWindowMs: number; heartbeatIntervalMs: number; leaseMarginMs: number; replyTimeoutMs: number }

export class KvmProvider implements HAProvider {
  readonly resourceType = 'host';
  readonly partitionKind = 'cluster' as const;
  constructor(private readonly o: TmpOpts) {}
  async isEligible(r: ResourceSpec): Promise<Verdict> { const f = this.o.inventory.facts(r.ref.id); return { ok: !!f && f.hypervisor === 'KVM' && f.sharedPoolMounted }; }
  async isInMaintenance(r: ResourceSpec): Promise<boolean> { return this.o.inventory.facts(r.ref.id)?.maintenance ?? false; }
  async partitionConditions(view: PartitionView): Promise<Verdict> {
    const n = view.members.filter((m) => m.eligible && (m.healthy === true || m.inEpisode)).length;
    return n >= 2 ? { ok: true, reason: `${n} members` } : { ok: false, reason: `${n} members, need 2` };
  }
  async healthCheck(r: ResourceSpec, ctx: ProviderContext): Promise<HealthResult> {
    const h = await this.o.agents.health(r.ref.id, ctx.signal);
    return h.connected ? { healthy: true } : { healthy: false, reason: h.detail ?? 'agent disconnected' };
  }
  async activityCheck(r: ResourceSpec, ctx: ProviderContext): Promise<ActivityResult> {
    const peers = ctx.inventory.resourcesIn(r.partition).filter((s) => s.ref.id !== r.ref.id);
    const checker = peers[0];
    if (!checker) return { verdict: 'error', reason: 'no checker' };
    const obs = await this.o.neighbors.readHeartbeat(checker.ref.id, r.ref.id, this.o.activityWindowMs, ctx.signal);
    if (!obs.ok) return { verdict: 'error', reason: obs.detail };
    if (obs.first.counter !== obs.second.counter || obs.volumesChanged) return { verdict: 'active', reason: 'heartbeat advancing' };
    return { verdict: 'inactive', reason: 'heartbeat unchanged' };
  }
  async recover(_r: ResourceSpec, ctx: ProviderContext): Promise<RecoverResult> {
    const p = ctx.power!;
    if ((await p.status()) !== 'ON') return { ok: false, reason: 'not ON' };
    await p.off();
    if (!(await this.pollOff(ctx))) return { ok: false, reason: 'not OFF' };
    await p.on();
    return { ok: true };
  }
  async fence(_r: ResourceSpec, ctx: ProviderContext): Promise<FenceResult> {
    const p = ctx.power;
    if (!p) return { outcome: 'unreachable' };
    try {
      if ((await p.status()) === 'OFF') return { outcome: 'off', reason: 'already OFF' };
      await p.off();
    } catch { return { outcome: 'unreachable' }; }
    return (await this.pollOff(ctx)) ? { outcome: 'off' } : { outcome: 'failed' };
  }
  async selfFenceLease(): Promise<LeaseStatus> { return { state: 'none', reason: 'tmp' }; }
  private async pollOff(ctx: ProviderContext): Promise<boolean> {
    const limit = this.o.clock.now() + 20_000;
    for (;;) { if ((await ctx.power!.status()) === 'OFF') return true; if (this.o.clock.now() >= limit) return false; await delay(this.o.clock, 1000, ctx.signal); }
  }
}
