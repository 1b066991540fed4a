import {
  HaService,
  PowerManagementService,
  Secret,
  type CoordinationStore,
  type HaConfig,
  type HAProvider,
  type PowerDriver,
  type StateStore,
} from '@hafence/core';
import { KvmProvider, StoreArmRecords } from '@hafence/provider-kvm';
import type { TestClock } from '@hafence/testkit';
import { SimAgentConnectivity } from './sim-agent-connectivity.js';
import type { SimKvmTiming } from './create-sim-kvm-env.js';
import type { SimKvmCluster } from './sim-kvm-cluster.js';
import { SimKvmInventory } from './sim-kvm-inventory.js';
import { SimNeighborExecutor } from './sim-neighbor-executor.js';
import { SimVolumeDirectory } from './sim-volume-directory.js';

/** What every management server of a simulated environment shares. */
export interface ServerParts {
  /** Clusters c1..cN the hosts are split into (default 1). */
  readonly clusters?: number;
  readonly clock: TestClock;
  readonly config: HaConfig;
  readonly seed: number;
  readonly kvm: SimKvmTiming;
  readonly sim: SimKvmCluster;
  readonly provider?: (sim: SimKvmCluster, clock: TestClock) => HAProvider;
}

/** One management server's own pieces: its power service, provider and engine. */
export interface ServerPieces {
  readonly service: HaService;
  readonly power: PowerManagementService;
  readonly provider: HAProvider;
}

/** How one server is wired: its store, its way to the BMCs and (several servers) its identity. */
export interface ServerWiring {
  readonly store: StateStore;
  readonly driver: PowerDriver;
  readonly ownership?: { readonly coordination: CoordinationStore; readonly msId: string; readonly runId: string };
}

/** Builds one management server's power service, KVM provider and engine over the simulation (not started). */
export function buildServer(parts: ServerParts, wiring: ServerWiring): ServerPieces {
  const { clock, config, seed, sim } = parts;
  const k = parts.kvm;
  const power = new PowerManagementService({
    clock,
    drivers: [wiring.driver],
    config: {
      powerOpTimeout: config.defaults.powerOpTimeout ?? 20_000,
      powerReadsToUnknown: config.defaults.powerReadsToUnknown ?? 3,
      powerSyncInterval: config.powerSyncInterval,
      powerSyncConcurrency: config.powerSyncConcurrency,
      jitterFraction: config.jitterFraction,
      seed,
      defaultPowerDrivers: ['fake'],
    },
  });
  const provider: HAProvider =
    parts.provider?.(sim, clock) ??
    new KvmProvider({
      agents: new SimAgentConnectivity(sim, clock),
      neighbors: new SimNeighborExecutor(sim, clock),
      inventory: new SimKvmInventory(sim),
      clock,
      volumes: new SimVolumeDirectory(sim),
      powerState: (h) => power.state(h),
      // Several servers record arms in the shared store, as `hafence serve` does: a new owner proves a lease
      // from the arms its predecessor recorded (one server keeps them in memory, which is the same to it).
      ...(wiring.ownership ? { armRecords: new StoreArmRecords(wiring.store) } : {}),
      activityWindowMs: k.activityWindowMs ?? 20_000,
      heartbeatIntervalMs: sim.heartbeatIntervalMs,
      leaseMarginMs: k.leaseMarginMs ?? 30_000,
      replyTimeoutMs: k.replyTimeoutMs ?? 30_000,
    });
  const service = new HaService({
    providers: [provider],
    clock,
    store: wiring.store,
    config,
    power,
    joinPowerEvents: true, // one stream, in emission order
    ...(wiring.ownership ? { ownership: wiring.ownership } : {}),
  });
  return { service, power, provider };
}

/**
 * The cluster of the `index`-th host (0-based) when `hosts` hosts are split into `clusters` clusters c1..cN in
 * blocks (c1 gets h1.. first).
 */
export function clusterOfHost(index: number, hosts: number, clusters: number): string {
  return `c${Math.floor(index / Math.ceil(hosts / clusters)) + 1}`;
}

/** Adds zone z1 / pod p1 / clusters c1..cN and every simulated host to a started engine. */
export async function populate(
  service: HaService,
  provider: HAProvider,
  sim: SimKvmCluster,
  clusters = 1,
): Promise<void> {
  await service.addPartition({ id: 'z1', kind: 'zone', enabled: true, haEnabled: true });
  await service.addPartition({ id: 'p1', kind: 'pod', parent: 'z1', enabled: true, haEnabled: true });
  for (let c = 1; c <= clusters; c++)
    await service.addPartition({ id: `c${c}`, kind: 'cluster', parent: 'p1', enabled: true, haEnabled: true });
  const hosts = sim.hostIds;
  for (const [i, id] of hosts.entries()) {
    const binding = {
      target: { host: id, address: `bmc-${id}`, username: 'admin', password: new Secret(sim.password) },
    };
    await service.addResource({
      ref: { type: provider.resourceType, id },
      partition: clusterOfHost(i, hosts.length, clusters),
      power: binding,
      attributes: { hypervisor: 'KVM', vms: sim.host(id).vms.length },
    });
  }
}
