// tsyringe refuses to load without a Reflect metadata polyfill, even with no decorator in
// use (its index throws at import): the module that needs it loads it.
import 'reflect-metadata';
import { container as root, instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import { parseConfig } from '../config/load-config.js';
import type { HaConfig, HaConfigOptions } from '../config/schema.js';
import { HaService } from '../engine/ha-service.js';
import type { PowerBackend } from '../engine/power-backend.js';
import { MemoryStateStore } from '../store/memory-state-store.js';
import type { Clock } from '../spi/clock.js';
import type { HAProvider } from '../spi/ha-provider.js';
import type { Logger } from '../spi/logger.js';
import type { PowerDriver } from '../spi/power-driver.js';
import type { StateStore } from '../spi/state-store.js';
import type { ServiceOwnershipOptions } from '../engine/owned-partitions.js';
import { systemClock } from '../util/system-clock.js';
import { noopLogger } from '../power/noop-logger.js';
import { PowerManagementService, type PowerServiceConfig } from '../power/power-management-service.js';
import {
  CLOCK,
  HA_CONFIG,
  HA_PROVIDERS,
  HA_SERVICE,
  LOGGER,
  POWER_BACKEND,
  POWER_CONFIG,
  POWER_DRIVERS,
  POWER_SERVICE,
  STATE_STORE,
} from './tokens.js';

/** The container an embedder wires hafence in (tsyringe's `DependencyContainer`). */
export type HaContainer = DependencyContainer;

/** What {@link createHaContainer} wires. Everything has a default. */
export interface HaContainerOptions {
  /** Providers; plugin packages add theirs with their `register…` function. */
  readonly providers?: readonly HAProvider[];
  /** Power drivers; plugin packages add theirs with their `register…` function. */
  readonly drivers?: readonly PowerDriver[];
  readonly clock?: Clock;
  readonly store?: StateStore;
  readonly config?: HaConfigOptions;
  readonly logger?: Logger;
  /** Overrides of the power service's settings (the rest come from `config`). */
  readonly powerConfig?: Partial<PowerServiceConfig>;
  /**
   * A power backend of your own instead of the `PowerManagementService` the container
   * builds from every registered driver. The service then neither starts nor closes it.
   */
  readonly power?: PowerBackend | ((container: DependencyContainer) => PowerBackend);
  /** Several management servers: this server's id and the shared coordination store (see `HaServiceOptions`). */
  readonly ownership?: ServiceOwnershipOptions;
}

/**
 * Builds a child tsyringe container with explicit tokens — never the global container's
 * registrations — so several services (and tests) live side by side. Resolving
 * {@link HA_SERVICE} builds the engine from every provider registered under
 * {@link HA_PROVIDERS} and, when any driver is registered under {@link POWER_DRIVERS},
 * the power service ({@link POWER_SERVICE}) from all of them. That service is owned by
 * the engine: `start()` starts its sync daemon, `stop()` closes it, and its events arrive
 * on `events$` (one stream).
 *
 * @example
 * const c = createHaContainer({ clock, config });
 * registerIpmiDriver(c);                  // @hafence/power-ipmi
 * registerKvmProvider(c, kvmOptions);     // @hafence/provider-kvm
 * const ha = c.resolve<HaService>(HA_SERVICE);
 * ha.events$.subscribe(console.log);
 * await ha.start();
 * await ha.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
 * await ha.addResource({ ref: { type: 'host', id: 'kvm1' }, partition: 'c1', power: binding });
 */
export function createHaContainer(options: HaContainerOptions = {}): HaContainer {
  const c = root.createChildContainer();
  c.register(CLOCK, { useValue: options.clock ?? systemClock });
  c.register(STATE_STORE, { useValue: options.store ?? new MemoryStateStore() });
  c.register(HA_CONFIG, { useValue: parseConfig(options.config ?? {}) });
  c.register(LOGGER, { useValue: options.logger ?? noopLogger });
  c.register(POWER_CONFIG, { useValue: options.powerConfig ?? {} });
  for (const p of options.providers ?? []) c.register(HA_PROVIDERS, { useValue: p });
  for (const d of options.drivers ?? []) c.register(POWER_DRIVERS, { useValue: d });
  c.register(POWER_SERVICE, {
    useFactory: instanceCachingFactory(
      (k) =>
        new PowerManagementService({
          clock: k.resolve<Clock>(CLOCK),
          logger: k.resolve<Logger>(LOGGER),
          drivers: k.isRegistered(POWER_DRIVERS, true) ? k.resolveAll<PowerDriver>(POWER_DRIVERS) : [],
          config: {
            ...powerConfigOf(k.resolve<HaConfig>(HA_CONFIG)),
            ...k.resolve<Partial<PowerServiceConfig>>(POWER_CONFIG),
          },
        }),
    ),
  });
  const power = options.power;
  if (power)
    c.register(POWER_BACKEND, {
      useFactory: instanceCachingFactory((k) => (typeof power === 'function' ? power(k) : power)),
    });
  c.register(HA_SERVICE, {
    useFactory: instanceCachingFactory((k) => {
      const own = !k.isRegistered(POWER_BACKEND, true) && k.isRegistered(POWER_DRIVERS, true);
      const backend = own
        ? k.resolve<PowerBackend>(POWER_SERVICE)
        : k.isRegistered(POWER_BACKEND, true)
          ? k.resolve<PowerBackend>(POWER_BACKEND)
          : undefined;
      return new HaService({
        providers: k.isRegistered(HA_PROVIDERS, true) ? k.resolveAll<HAProvider>(HA_PROVIDERS) : [],
        clock: k.resolve<Clock>(CLOCK),
        store: k.resolve<StateStore>(STATE_STORE),
        config: k.resolve<HaConfig>(HA_CONFIG),
        logger: k.resolve<Logger>(LOGGER),
        power: backend,
        joinPowerEvents: backend !== undefined,
        ownPower: own,
        ownership: options.ownership,
      });
    }),
  });
  return c;
}

/** The power settings the engine's configuration names (SPEC §4). */
export function powerConfigOf(config: HaConfig): Partial<PowerServiceConfig> {
  const d = config.defaults;
  return {
    ...(d.powerOpTimeout === undefined ? {} : { powerOpTimeout: d.powerOpTimeout }),
    ...(d.powerReadsToUnknown === undefined ? {} : { powerReadsToUnknown: d.powerReadsToUnknown }),
    powerSyncInterval: config.powerSyncInterval,
    powerSyncConcurrency: config.powerSyncConcurrency,
    jitterFraction: config.jitterFraction,
    seed: config.seed,
  };
}

/**
 * Adds a power driver to the container (plugin packages wrap this in their own
 * `register…Driver`). Resolve {@link HA_SERVICE} after every driver is registered.
 */
export function registerPowerDriver(
  container: HaContainer,
  driver: PowerDriver | ((c: HaContainer) => PowerDriver),
): void {
  if (typeof driver === 'function')
    container.register(POWER_DRIVERS, { useFactory: instanceCachingFactory<PowerDriver>(driver) });
  else container.register(POWER_DRIVERS, { useValue: driver });
}

/**
 * Adds a provider to the container (plugin packages wrap this in their own
 * `register…Provider`); a factory may resolve {@link POWER_SERVICE}, {@link CLOCK}….
 */
export function registerProvider(
  container: HaContainer,
  provider: HAProvider | ((c: HaContainer) => HAProvider),
): void {
  if (typeof provider === 'function')
    container.register(HA_PROVIDERS, { useFactory: instanceCachingFactory<HAProvider>(provider) });
  else container.register(HA_PROVIDERS, { useValue: provider });
}
