import {
  checkOverrideTargets,
  MemoryStateStore,
  parseConfig,
  type ConfigTargets,
  type HaConfigOptions,
  type HaEvent,
  type HAProvider,
  type HaService,
  type PowerManagementService,
  type StateStore,
} from '@hafence/core';
import { singleClusterTargets, TestClock } from '@hafence/testkit';
import { SimKvmCluster, type SimNote } from './sim-kvm-cluster.js';
import { buildServer, clusterOfHost, populate, type ServerParts } from './sim-server-parts.js';
import { SimServers } from './sim-servers.js';

/** KVM timing knobs of a simulated environment, in ms (docs/behaviour.md#scheduling-and-guards, KVM row). */
export interface SimKvmTiming {
  readonly bootTimeMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly activityWindowMs?: number;
  readonly selfFenceAfterMs?: number;
  readonly leaseMarginMs?: number;
  readonly replyTimeoutMs?: number;
  /** What the watchdog of a self-fencing host does (default `reset`). */
  readonly watchdogAction?: 'reset' | 'off';
}

/** Options of {@link createSimKvmEnv}. */
export interface SimKvmEnvOptions {
  /** Number of hosts `h1..hN` in zone z1 / pod p1 / cluster c1 (default 6). */
  readonly hosts?: number;
  readonly vmsPerHost?: number;
  /** Seeds the engine's jitter and the agents' heartbeat phases (default 42). */
  readonly seed?: number;
  /**
   * Service configuration (same schema as `hafence`'s); an override of a host or partition the environment lacks is a
   * `ConfigError`.
   */
  readonly config?: HaConfigOptions;
  readonly kvm?: SimKvmTiming;
  readonly clock?: TestClock;
  readonly store?: StateStore;
  /** Start the power sync daemon (default true). */
  readonly sync?: boolean;
  /** Replaces the {@link KvmProvider} built over the simulation (for custom providers). */
  readonly provider?: (sim: SimKvmCluster, clock: TestClock) => HAProvider;
  /**
   * Several management servers `ms1..msN` (docs/behaviour.md#several-servers) on one shared store (`store`), each with
   * its own power service, provider and engine; events then carry `ms`. Default 1: one engine owning everything.
   */
  readonly managementServers?: number;
  /** Clusters c1..cN under pod p1, the hosts split among them in blocks (default 1). */
  readonly clusters?: number;
}

/** A running simulated KVM cluster: the real engine, KVM provider and power service over simulated hosts. */
export interface SimKvmEnv {
  readonly clock: TestClock;
  readonly sim: SimKvmCluster;
  readonly service: HaService;
  readonly power: PowerManagementService;
  readonly provider: HAProvider;
  /** Every engine and power event so far, in order. */
  readonly events: HaEvent[];
  /** What the simulation did by itself (self-fences, boots). */
  readonly notes: SimNote[];
  /** Events and notes together, in the order they happened. */
  readonly timeline: Array<HaEvent | SimNote>;
  /** Virtual time at which the environment started. */
  readonly startedAt: number;
  readonly hostIds: readonly string[];
  /** Several management servers: each server, its faults and the BMC command log. */
  readonly servers?: SimServers;
  /** Stops the engine, the power service and the simulation. */
  close(): Promise<void>;
}

/**
 * Builds and starts a simulated KVM cluster in virtual time: hosts with agents and VMs,
 * a shared store, in-process BMCs, the KVM provider over the simulated ports, the power
 * service and the HA engine.
 *
 * @example
 * const env = await createSimKvmEnv({ hosts: 4, config: { startupGrace: 0 } });
 * env.sim.crash('h2');
 * await env.clock.advance(20 * 60_000);
 * expect(env.service.resource({ type: 'host', id: 'h2' }).state).to.equal('AVAILABLE');
 * await env.close();
 */
export async function createSimKvmEnv(options: SimKvmEnvOptions = {}): Promise<SimKvmEnv> {
  const clock = options.clock ?? new TestClock();
  const seed = options.seed ?? 42;
  const k = options.kvm ?? {};
  const config = parseConfig({ ...options.config, seed, defaultPowerDrivers: ['fake'] });
  checkOverrideTargets(config, simTargets(options.hosts ?? 6, options.clusters ?? 1));
  const notes: SimNote[] = [];
  const events: HaEvent[] = [];
  const timeline: Array<HaEvent | SimNote> = [];
  const onEvent = (e: HaEvent): void => {
    events.push(e);
    timeline.push(e);
    if (e.type === 'workloads.released') sim.checkRelease(e.resource);
  };
  const hostIds = Array.from({ length: options.hosts ?? 6 }, (_, i) => `h${i + 1}`);
  const sim = new SimKvmCluster({
    clock,
    hosts: hostIds,
    vmsPerHost: options.vmsPerHost,
    seed,
    bootTimeMs: k.bootTimeMs,
    heartbeatIntervalMs: k.heartbeatIntervalMs,
    selfFenceAfterMs: k.selfFenceAfterMs,
    watchdogAction: k.watchdogAction,
    onNote: (n) => {
      notes.push(n);
      timeline.push(n);
    },
  });
  const parts: ServerParts = {
    clock,
    config,
    seed,
    kvm: k,
    sim,
    provider: options.provider,
    clusters: options.clusters,
  };
  const multi = (options.managementServers ?? 1) > 1;
  if (multi) {
    const shared = options.store ?? new MemoryStateStore();
    const servers = new SimServers(parts, options.managementServers ?? 1, shared, onEvent);
    const startedAt = clock.now();
    sim.start();
    await servers.startAll(options.sync !== false);
    return {
      clock,
      sim,
      get service() {
        return servers.first().service;
      },
      get power() {
        return servers.first().power;
      },
      get provider() {
        return servers.first().provider;
      },
      servers,
      events,
      notes,
      timeline,
      startedAt,
      hostIds,
      close: async () => {
        sim.stop();
        await servers.close();
      },
    };
  }
  const { service, power, provider } = buildServer(parts, {
    store: options.store ?? new MemoryStateStore(),
    driver: sim.bmc,
  });
  service.events$.subscribe(onEvent);
  const startedAt = clock.now();
  sim.start();
  await service.start();
  await populate(service, provider, sim, options.clusters);
  if (options.sync !== false) power.startSync();
  return {
    clock,
    sim,
    service,
    power,
    provider,
    events,
    notes,
    timeline,
    startedAt,
    hostIds,
    close: async () => {
      power.stopSync();
      sim.stop();
      await service.stop();
      await power.close();
      await provider.shutdown?.();
    },
  };
}

/** The partitions and hosts of the environment, for `checkOverrideTargets`. */
export function simTargets(hosts: number, clusters: number): ConfigTargets {
  const single = singleClusterTargets(hosts);
  if (clusters === 1) return single;
  return {
    partitions: [
      ...single.partitions.filter((p) => p.kind !== 'cluster'),
      ...Array.from({ length: clusters }, (_, c) => ({ id: `c${c + 1}`, kind: 'cluster' as const, parent: 'p1' })),
    ],
    resources: single.resources.map((r, i) => ({ ...r, partition: clusterOfHost(i, hosts, clusters) })),
  };
}
