import {
  DEFAULT_SETTINGS,
  HA_SERVICE,
  POWER_SERVICE,
  createHaContainer,
  registerPowerDriver,
  systemClock,
  type Clock,
  type HaService,
  type HaEvent,
  type Logger,
  type PowerManagementService,
  type ServiceOwnershipOptions,
  type StateStore,
} from '@hafence/core';
import {
  HttpAgentConnectivity,
  HttpNeighborExecutor,
  HttpVolumeDirectory,
  StoreArmRecords,
  agentClientIdleMs,
  registerKvmProvider,
  type KvmInventory,
} from '@hafence/provider-kvm';
import type { ClusterFile } from './cluster-schema.js';
import { closeDrivers, resolveStandalone } from './standalone-wiring.js';

/** Options of {@link StandaloneEngine.start}. */
export interface StandaloneEngineOptions {
  /** The validated cluster file. */
  readonly file: ClusterFile;
  /** Receives every engine and power event, in order. */
  readonly onEvent: (event: HaEvent) => void;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Environment for `passwordEnv` and HAFENCE_SECRET_KEY (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** `hafence serve --tls-ca`: the CA that verifies the agents, instead of `agentTls.caFile`. */
  readonly agentCaFile?: string;
  /** Where HA state lives (default in memory: nothing survives a restart). The engine closes it on stop. */
  readonly store?: StateStore;
  /** Several servers sharing `store`: this server's id and the store's coordination side. */
  readonly ownership?: ServiceOwnershipOptions;
  /**
   * `hafence serve --observe-only`: the whole engine observes (docs/observe-only.md), whatever the file says; without
   * it, the file's `ha.observeOnly` and each zone's, pod's and cluster's `observeOnly` apply.
   */
  readonly observeOnly?: boolean;
}

/**
 * The standalone management server of a bare-metal KVM cluster: the power service
 * (native IPMI, the script driver where a host lists it), the KVM provider over the
 * hafence agents' HTTP API, and the HA engine, wired from one cluster file.
 *
 * @example
 * const engine = await StandaloneEngine.start({
 *   file: loadClusterFile('cluster.yaml'),
 *   onEvent: (e) => console.log(e),
 * });
 * // … on SIGTERM:
 * await engine.stop();
 */
export class StandaloneEngine {
  private constructor(
    readonly service: HaService,
    readonly power: PowerManagementService,
    private readonly stopSubs: () => void,
  ) {}

  /** The KVM provider's resource type. */
  private static readonly RESOURCE_TYPE = 'host';

  /**
   * Resolves every credential and driver first ({@link resolveStandalone}: a `ConfigError` naming every bad field
   * starts nothing), then starts.
   */
  static async start(options: StandaloneEngineOptions): Promise<StandaloneEngine> {
    const { file } = options;
    const clock = options.clock ?? systemClock;
    const { token, tls, bindings, drivers } = await resolveStandalone(file, {
      env: options.env,
      agentCaFile: options.agentCaFile,
    });
    const urls = Object.fromEntries(Object.entries(file.hosts).map(([id, h]) => [id, h.agent.url]));
    // One kept-alive connection per agent across checks: idle longer than the health check interval.
    const keepAliveMs = agentClientIdleMs(file.ha.defaults.healthCheckInterval ?? DEFAULT_SETTINGS.healthCheckInterval);
    const ports = { agents: urls, token, replyTimeoutMs: file.kvm.replyTimeout, clock, tls, keepAliveMs };
    // A child container per service (STYLE.md): the drivers and the provider register
    // themselves; the container builds the power service from every driver and the engine
    // from every provider, and the engine owns the power service (sync, close, events).
    let c: ReturnType<typeof createHaContainer>;
    try {
      c = createHaContainer({
        clock,
        store: options.store,
        ownership: options.ownership,
        config: options.observeOnly === true ? { ...file.ha, observeOnly: true } : file.ha,
        logger: options.logger,
        powerConfig: { defaultPowerDrivers: file.power.defaultDrivers },
      });
    } catch (err) {
      await closeDrivers(drivers); // not handed to a power service yet
      throw err;
    }
    for (const driver of drivers) registerPowerDriver(c, driver);
    registerKvmProvider(c, {
      // Arms and disarms recorded in the store: a restart or another server sees them.
      ...(options.store ? { armRecords: new StoreArmRecords(options.store) } : {}),
      agents: new HttpAgentConnectivity(ports),
      neighbors: new HttpNeighborExecutor(ports),
      inventory: inventoryOf(file),
      volumes: new HttpVolumeDirectory(ports),
      maxVolumesPerCheck: file.kvm.maxVolumesPerCheck,
      volumeRefreshMs: file.kvm.volumeRefresh,
      heartbeatIntervalMs: file.kvm.heartbeatInterval,
      activityWindowMs: file.kvm.activityWindow,
      leaseMarginMs: file.kvm.leaseMargin,
      replyTimeoutMs: file.kvm.replyTimeout,
      powerPollMs: file.kvm.powerPoll,
    });
    const service = c.resolve<HaService>(HA_SERVICE);
    const power = c.resolve<PowerManagementService>(POWER_SERVICE);
    const subs = [service.events$.subscribe(options.onEvent)];
    const engine = new StandaloneEngine(service, power, () => subs.forEach((s) => s.unsubscribe()));
    try {
      await service.start();
      await addPartitions(service, file);
      // Together: their first records share commits (the SQLite store), not one commit after another per host.
      await service.addResources(
        Object.entries(file.hosts).map(([id, host]) => ({
          ref: { type: StandaloneEngine.RESOURCE_TYPE, id },
          partition: host.cluster,
          power: bindings.get(id)!,
          attributes: { hypervisor: host.hypervisor },
        })),
      );
    } catch (err) {
      await engine.stop();
      throw err;
    }
    return engine;
  }

  /**
   * Stops the engine (running checks and actions get `deadlineMs`, then are aborted), its
   * power service's sync daemon, and closes the BMC sessions and sockets.
   */
  async stop(deadlineMs = 0): Promise<void> {
    await this.service.stop({ deadlineMs });
    this.stopSubs();
  }
}

async function addPartitions(service: HaService, file: ClusterFile): Promise<void> {
  const switches = (s: { enabled: boolean; haEnabled: boolean; observeOnly: boolean }) => ({
    enabled: s.enabled,
    haEnabled: s.haEnabled,
    ...(s.observeOnly ? { observeOnly: true } : {}),
  });
  for (const [id, z] of Object.entries(file.zones)) await service.addPartition({ id, kind: 'zone', ...switches(z) });
  for (const [id, p] of Object.entries(file.pods))
    await service.addPartition({ id, kind: 'pod', parent: p.zone, ...switches(p) });
  for (const [id, c] of Object.entries(file.clusters))
    await service.addPartition({ id, kind: 'cluster', parent: c.pod, ...switches(c) });
}

function inventoryOf(file: ClusterFile): KvmInventory {
  return {
    facts: (host) => {
      const h = Object.hasOwn(file.hosts, host) ? file.hosts[host] : undefined;
      return (
        h && {
          hypervisor: h.hypervisor,
          sharedPoolMounted: h.sharedPoolMounted,
          maintenance: h.maintenance,
          vms: h.vms,
        }
      );
    },
  };
}
