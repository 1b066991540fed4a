import {
  checkOverrideTargets,
  HaService,
  MemoryStateStore,
  PowerManagementService,
  Secret,
  parseConfig,
  type HaConfigOptions,
  type HaEvent,
  type HAProvider,
  type StateStore,
} from '@hafence/core';
import { KvmProvider } from '@hafence/provider-kvm';
import { singleClusterTargets, TestClock } from '@hafence/testkit';
import { SimAgentConnectivity } from './sim-agent-connectivity.js';
import { SimKvmCluster, type SimNote } from './sim-kvm-cluster.js';
import { SimKvmInventory } from './sim-kvm-inventory.js';
import { SimNeighborExecutor } from './sim-neighbor-executor.js';
import { SimVolumeDirectory } from './sim-volume-directory.js';

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
  checkOverrideTargets(config, singleClusterTargets(options.hosts ?? 6));
  const notes: SimNote[] = [];
  const events: HaEvent[] = [];
  const timeline: Array<HaEvent | SimNote> = [];
  const onEvent = (e: HaEvent) => {
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
  const power = new PowerManagementService({
    clock,
    drivers: [sim.bmc],
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
    options.provider?.(sim, clock) ??
    new KvmProvider({
      agents: new SimAgentConnectivity(sim, clock),
      neighbors: new SimNeighborExecutor(sim, clock),
      inventory: new SimKvmInventory(sim),
      clock,
      volumes: new SimVolumeDirectory(sim),
      powerState: (h) => power.state(h),
      activityWindowMs: k.activityWindowMs ?? 20_000,
      heartbeatIntervalMs: sim.heartbeatIntervalMs,
      leaseMarginMs: k.leaseMarginMs ?? 30_000,
      replyTimeoutMs: k.replyTimeoutMs ?? 30_000,
    });
  const service = new HaService({
    providers: [provider],
    clock,
    store: options.store ?? new MemoryStateStore(),
    config,
    power,
    joinPowerEvents: true, // one stream, in emission order
  });
  service.events$.subscribe(onEvent);
  const startedAt = clock.now();
  sim.start();
  await service.start();
  await service.addPartition({ id: 'z1', kind: 'zone', enabled: true, haEnabled: true });
  await service.addPartition({ id: 'p1', kind: 'pod', parent: 'z1', enabled: true, haEnabled: true });
  await service.addPartition({ id: 'c1', kind: 'cluster', parent: 'p1', enabled: true, haEnabled: true });
  for (const id of hostIds) {
    const binding = {
      target: { host: id, address: `bmc-${id}`, username: 'admin', password: new Secret(sim.password) },
    };
    await service.addResource({
      ref: { type: provider.resourceType, id },
      partition: 'c1',
      power: binding,
      attributes: { hypervisor: 'KVM', vms: sim.host(id).vms.length },
    });
  }
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
