import {
  checkOverrideTargets,
  HaService,
  MemoryStateStore,
  PowerManagementService,
  Secret,
  parseConfig,
  type HaConfigOptions,
  type HaEvent,
  type StateStore,
} from '@hafence/core';
import { FakePowerDriver } from '../power/fake-power-driver.js';
import { FakeProvider } from '../provider/fake-provider.js';
import { TestClock } from '../time/test-clock.js';
import { singleClusterTargets } from './single-cluster-targets.js';

/** Options of {@link createFakeCluster}. */
export interface FakeClusterOptions {
  /** Number of hosts `h1..hN` in zone z1 / pod p1 / cluster c1 (default 6). */
  readonly hosts?: number;
  /** Service configuration; an override of a host or partition the cluster lacks is a `ConfigError`. */
  readonly config?: HaConfigOptions;
  readonly clock?: TestClock;
  readonly store?: StateStore;
  /** Provider answer latency in virtual ms (default 1). */
  readonly latencyMs?: number;
  readonly bootTimeMs?: number;
  /** Start the power sync daemon (default true). */
  readonly sync?: boolean;
}

/** A simulated cluster on virtual time: engine, fake provider, fake BMCs, power service. */
export interface FakeCluster {
  readonly clock: TestClock;
  readonly service: HaService;
  readonly provider: FakeProvider;
  readonly driver: FakePowerDriver;
  readonly power: PowerManagementService;
  readonly store: StateStore;
  /** Every event so far, in order. */
  readonly events: HaEvent[];
  readonly hostIds: readonly string[];
  /** Stops everything. */
  close(): Promise<void>;
}

const PASSWORD = 'fake-cluster-pw';

/**
 * Builds and starts a simulated cluster in virtual time, with the real engine and power
 * service over in-memory hosts and BMCs.
 *
 * @example
 * const c = await createFakeCluster({ hosts: 6 });
 * c.provider.host('h3').crashed = true;
 * await c.clock.advance(30 * 60_000);
 */
export async function createFakeCluster(options: FakeClusterOptions = {}): Promise<FakeCluster> {
  const clock = options.clock ?? new TestClock();
  const store = options.store ?? new MemoryStateStore();
  const config = parseConfig({ ...options.config, defaultPowerDrivers: ['fake'] });
  checkOverrideTargets(config, singleClusterTargets(options.hosts ?? 6));
  const driver = new FakePowerDriver({ clock, password: PASSWORD, latencyMs: 5 });
  const power = new PowerManagementService({
    clock,
    drivers: [driver],
    config: {
      powerOpTimeout: config.defaults.powerOpTimeout ?? 20_000,
      powerReadsToUnknown: config.defaults.powerReadsToUnknown ?? 3,
      powerSyncInterval: config.powerSyncInterval,
      powerSyncConcurrency: config.powerSyncConcurrency,
      jitterFraction: config.jitterFraction,
      seed: config.seed,
      defaultPowerDrivers: ['fake'],
    },
  });
  const provider = new FakeProvider({
    clock,
    power: driver,
    latencyMs: options.latencyMs,
    bootTimeMs: options.bootTimeMs,
  });
  const service = new HaService({ providers: [provider], clock, store, config, power, joinPowerEvents: true });
  const events: HaEvent[] = [];
  service.events$.subscribe((e) => events.push(e));
  await service.start();
  await service.addPartition({ id: 'z1', kind: 'zone', enabled: true, haEnabled: true });
  await service.addPartition({ id: 'p1', kind: 'pod', parent: 'z1', enabled: true, haEnabled: true });
  await service.addPartition({ id: 'c1', kind: 'cluster', parent: 'p1', enabled: true, haEnabled: true });
  const hostIds: string[] = [];
  for (let i = 1; i <= (options.hosts ?? 6); i++) {
    const id = `h${i}`;
    hostIds.push(id);
    const binding = { target: { host: id, address: `bmc-${id}`, username: 'admin', password: new Secret(PASSWORD) } };
    await service.addResource({ ref: { type: 'host', id }, partition: 'c1', power: binding });
  }
  if (options.sync !== false) power.startSync();
  return {
    clock,
    service,
    provider,
    driver,
    power,
    store,
    events,
    hostIds,
    close: async () => {
      power.stopSync();
      await service.stop();
      await power.close();
    },
  };
}
