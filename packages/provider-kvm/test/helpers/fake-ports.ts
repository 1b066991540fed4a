import {
  DEFAULT_SETTINGS,
  delay,
  MemoryInventory,
  noopLogger,
  UnreachableError,
  type ChassisPower,
  type Clock,
  type MemberView,
  type PartitionView,
  type PowerControl,
  type ProviderContext,
  type ResourceSpec,
  type ResourceState,
} from '@hafence/core';
import type {
  AgentConnectivity,
  AgentHealth,
  ArmRequest,
  HeartbeatObservation,
  HeartbeatRecord,
  KvmHostFacts,
  KvmInventory,
  NeighborExecutor,
  VmVolume,
  VmVolumeDirectory,
} from '@hafence/provider-kvm';
import type { TestClock } from '@hafence/testkit';

/** One simulated KVM host behind the fake ports. */
export interface SimHost {
  facts: KvmHostFacts;
  /** The agent answers the control plane. */
  agentUp: boolean;
  storageOk: boolean;
  /** The host writes its heartbeat (counter advances per heartbeat). */
  alive: boolean;
  armed: boolean;
  /** The `armGen` of the last arm/disarm the agent applied (echoed in its heartbeat). */
  armGen: number;
  counter: number;
  /** As a checker: `ok`, cannot read the mount, or never replies. */
  reads: 'ok' | 'mount-unreadable' | 'hang';
  /** The host's VMs, as the control plane lists them (default: one VM with one volume). */
  vms: VmVolume[];
  /** Its VMs write their volumes while it is powered (default false: only the heartbeat shows life). */
  vmsWriting: boolean;
  /** As a checker: volume reads fail. */
  volumeReadsFail: boolean;
  /** As a peer: whether it reaches each other host (default: reaches the alive ones). */
  reaches?: (suspect: string) => boolean;
  peerUp: boolean;
  /** The agent's worst case to the reset beyond selfFenceAfter, if it reports one. */
  resetMarginMs?: number;
}

/** Fake ports over simulated hosts, recording every request by target host. */
export class FakeKvm implements AgentConnectivity, NeighborExecutor, KvmInventory, VmVolumeDirectory {
  readonly hosts = new Map<string, SimHost>();
  readonly requests: { host: string; kind: string; at: number }[] = [];
  readonly armCalls: { host: string; armed: boolean; armGen: number }[] = [];
  /** The volumes the last read request named. */
  lastVolumesAsked: readonly string[] | undefined;

  /** Whether a host has power (default: always); unpowered hosts neither answer nor write. */
  powered: (host: string) => boolean = () => true;

  constructor(private readonly clock: Clock) {}

  /** The host writes heartbeats now. */
  writing(id: string): boolean {
    return this.host(id).alive && this.powered(id);
  }

  host(id: string): SimHost {
    let h = this.hosts.get(id);
    if (!h) {
      h = {
        facts: { hypervisor: 'KVM', sharedPoolMounted: true, maintenance: false },
        agentUp: true,
        storageOk: true,
        alive: true,
        armed: true,
        armGen: 0,
        counter: 1,
        reads: 'ok',
        peerUp: true,
        vms: [{ vm: `${id}-vm1`, volume: `/mnt/pool/${id}-vm1.qcow2` }],
        vmsWriting: false,
        volumeReadsFail: false,
      };
      this.hosts.set(id, h);
    }
    return h;
  }

  record(id: string): HeartbeatRecord {
    const h = this.host(id);
    const r: HeartbeatRecord = {
      counter: h.counter,
      armed: h.armed,
      selfFenceAfter: 60_000,
      watchdog: h.armed ? 'simulated' : 'none',
      armGen: h.armGen,
    };
    return h.resetMarginMs === undefined ? r : { ...r, resetMarginMs: h.resetMarginMs };
  }

  facts(host: string): KvmHostFacts | undefined {
    return this.hosts.get(host)?.facts;
  }

  async health(host: string): Promise<AgentHealth> {
    this.note(host, 'health');
    const h = this.host(host);
    return h.agentUp && this.powered(host)
      ? { connected: true, storageOk: h.storageOk, heartbeat: this.record(host), armGen: h.armGen }
      : { connected: false, detail: 'no connection' };
  }

  /** Applies the request (the fake's heartbeat shows it at once); refuses a lower armGen. */
  async setArmed(host: string, request: ArmRequest): Promise<void> {
    this.note(host, 'arm');
    this.armCalls.push({ host, ...request });
    const h = this.host(host);
    if (request.armGen < h.armGen) throw new Error(`armGen ${request.armGen} refused: applied ${h.armGen}`);
    h.armed = request.armed;
    h.armGen = request.armGen;
  }

  /** The control plane's list of `host`'s VM volumes. */
  volumesOf(host: string): readonly VmVolume[] | undefined {
    return this.hosts.get(host)?.vms;
  }

  async readHeartbeat(
    checker: string,
    suspect: string,
    windowMs: number,
    signal: AbortSignal,
    volumes?: readonly string[],
  ): Promise<HeartbeatObservation> {
    this.note(checker, 'read');
    const c = this.host(checker);
    if (!this.powered(checker)) await delay(this.clock, 365 * 86_400_000, signal);
    if (c.reads === 'hang') await delay(this.clock, 365 * 86_400_000, signal);
    if (c.reads === 'mount-unreadable') return { ok: false, reason: 'mount-unreadable', detail: 'EIO' };
    const first = this.record(suspect);
    await delay(this.clock, windowMs, signal);
    if (this.writing(suspect)) this.host(suspect).counter++;
    const second = this.record(suspect);
    if (!volumes) return { ok: true, first, second };
    this.lastVolumesAsked = volumes;
    const s = this.host(suspect);
    const failed = c.volumeReadsFail ? volumes.map((volume) => ({ volume, detail: 'no answer within 2000 ms' })) : [];
    const changed = !c.volumeReadsFail && s.vmsWriting && this.powered(suspect) ? [...volumes] : [];
    return { ok: true, first, second, volumes: { read: volumes.length - failed.length, skipped: 0, changed, failed } };
  }

  async canReach(peer: string, suspect: string): Promise<boolean> {
    this.note(peer, 'peer-reach');
    const p = this.host(peer);
    if (!p.peerUp || !this.powered(peer)) throw new UnreachableError(peer, 'agent', 'down');
    return p.reaches ? p.reaches(suspect) : this.host(suspect).agentUp && this.powered(suspect);
  }

  /** Requests sent to `host` (any kind). */
  sentTo(host: string, kind?: string): number {
    return this.requests.filter((r) => r.host === host && (!kind || r.kind === kind)).length;
  }

  private note(host: string, kind: string): void {
    this.requests.push({ host, kind, at: this.clock.now() });
  }
}

/** A scripted chassis behind a {@link PowerControl}, logging every call. */
export class FakePower implements PowerControl {
  readonly calls: string[] = [];
  power: ChassisPower = 'ON';
  /** Status reads needed after `off` before the chassis reads OFF (Infinity: never). */
  offAfterReads = 1;
  unreachable = false;
  private pendingReads = -1;

  async status(): Promise<ChassisPower> {
    this.calls.push('status');
    if (this.unreachable) throw new UnreachableError('h', 'bmc', 'no route');
    if (this.pendingReads > 0 && --this.pendingReads === 0) this.power = 'OFF';
    return this.power;
  }

  async on(): Promise<void> {
    this.calls.push('on');
    this.power = 'ON';
  }

  async off(): Promise<void> {
    this.calls.push('off');
    if (this.unreachable) throw new UnreachableError('h', 'bmc', 'no route');
    this.pendingReads = this.offAfterReads;
  }

  async cycle(): Promise<void> {
    this.calls.push('cycle');
  }

  async reset(): Promise<void> {
    this.calls.push('reset');
  }
}

/** A cluster c1 ⊂ pod p1 ⊂ zone z1 with hosts h1..hn. */
export function inventoryOf(
  n: number,
  opts: { podEnabled?: boolean; haEnabled?: boolean } = {},
): { inventory: MemoryInventory; specs: ResourceSpec[] } {
  const inventory = new MemoryInventory();
  inventory.putPartition({ id: 'z1', kind: 'zone', enabled: true, haEnabled: true });
  inventory.putPartition({ id: 'p1', kind: 'pod', parent: 'z1', enabled: opts.podEnabled ?? true, haEnabled: true });
  inventory.putPartition({ id: 'c1', kind: 'cluster', parent: 'p1', enabled: true, haEnabled: opts.haEnabled ?? true });
  const specs: ResourceSpec[] = [];
  for (let i = 1; i <= n; i++) {
    const spec: ResourceSpec = {
      ref: { type: 'host', id: `h${i}` },
      partition: 'c1',
      power: { target: { host: `bmc${i}` } } as unknown as ResourceSpec['power'],
    };
    inventory.putResource(spec);
    specs.push(spec);
  }
  return { inventory, specs };
}

/** A provider context for one call. */
export function ctxOf(
  clock: TestClock,
  inventory: MemoryInventory,
  state: ResourceState,
  power?: PowerControl,
  signal = new AbortController().signal,
): ProviderContext {
  return {
    signal,
    clock,
    logger: noopLogger,
    inventory,
    power,
    state,
    settings: { ...DEFAULT_SETTINGS, powerOffVerifyTimeout: 20_000 },
    sleep: (ms) => delay(clock, ms, signal),
  };
}

/** A partition view of c1 where every host has the given state (default AVAILABLE, healthy). */
export function viewOf(inventory: MemoryInventory, states: Record<string, Partial<MemberView>> = {}): PartitionView {
  const [partition, ...ancestors] = inventory.lineage('c1');
  if (!partition) throw new Error('fixture inventory has no partition c1');
  return {
    partition,
    ancestors,
    members: inventory.resourcesIn('c1').map((spec) => ({
      spec,
      state: 'AVAILABLE',
      eligible: true,
      healthy: true,
      inEpisode: false,
      ...states[spec.ref.id],
    })),
  };
}
