import { delay, type Clock } from '@hafence/core';
import type { HeartbeatObservation, HeartbeatRecord, NeighborExecutor } from '@hafence/provider-kvm';
import type { SimKvmCluster } from './sim-kvm-cluster.js';

/** One read of a heartbeat file through a checker's mount. */
type ReadResult =
  | { readonly ok: true; readonly record: HeartbeatRecord }
  | Extract<HeartbeatObservation, { ok: false }>;

/** How long a request to an agent that never answers stays unanswered before the sim gives up. */
const LOST_REQUEST_MS = 10 * 60_000;

/**
 * {@link NeighborExecutor} over a {@link SimKvmCluster}: the checker reads the suspect's
 * heartbeat file twice, a window apart, through its own view of the mount. A hung mount
 * or an unreachable checker never answers (until the caller's reply timeout aborts).
 */
export class SimNeighborExecutor implements NeighborExecutor {
  /** Builds the port; every request takes `latencyMs` of virtual time (default 2). */
  constructor(
    private readonly sim: SimKvmCluster,
    private readonly clock: Clock,
    private readonly latencyMs = 2,
  ) {}

  async readHeartbeat(
    checker: string,
    suspect: string,
    windowMs: number,
    signal: AbortSignal,
    volumes?: readonly string[],
  ): Promise<HeartbeatObservation> {
    await this.reach(checker, signal);
    const stamps = () => (volumes ?? []).map((v) => this.sim.store.volumeStamp(v));
    const first = await this.read(checker, suspect, signal);
    if (!first.ok) return first;
    const before = stamps();
    await delay(this.clock, windowMs, signal);
    const second = await this.read(checker, suspect, signal);
    if (!second.ok) return second;
    if (!volumes || volumes.length === 0) return { ok: true, first: first.record, second: second.record };
    const after = stamps();
    const changed = volumes.filter((_, i) => after[i] !== before[i]);
    const fingerprints = Object.fromEntries(volumes.map((v, i) => [v, String(after[i])]));
    return {
      ok: true,
      first: first.record,
      second: second.record,
      volumes: { read: volumes.length, skipped: 0, changed, failed: [], fingerprints },
    };
  }

  async canReach(peer: string, suspect: string, signal: AbortSignal): Promise<boolean> {
    await this.reach(peer, signal);
    return this.sim.reachablePeers(peer).some((p) => p.id === suspect);
  }

  /** Delivers a request to `host`'s agent; an unreachable agent never answers. */
  private async reach(host: string, signal: AbortSignal): Promise<void> {
    await delay(this.clock, this.latencyMs, signal);
    const h = this.sim.host(host);
    const now = this.clock.now();
    if (!h.agentReachable(now)) {
      await delay(this.clock, LOST_REQUEST_MS, signal);
      throw new Error(`no reply from the agent of ${host}`);
    }
    h.lastMsRequestAt = now;
  }

  private async read(checker: string, suspect: string, signal: AbortSignal): Promise<ReadResult> {
    const mount = this.sim.store.mount(checker);
    if (this.sim.host(checker).isolated || mount === 'down')
      return { ok: false, reason: 'mount-unreadable', detail: `${checker} cannot read the shared mount` };
    if (mount === 'hang') {
      await delay(this.clock, LOST_REQUEST_MS, signal);
      return { ok: false, reason: 'timeout', detail: `${checker}'s read of the shared mount hung` };
    }
    const record = this.sim.store.readHeartbeat(suspect);
    return record
      ? { ok: true, record }
      : { ok: false, reason: 'no-heartbeat', detail: `no heartbeat file for ${suspect}` };
  }
}
