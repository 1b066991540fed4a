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
import { systemClock } from '../util/system-clock.js';
import { noopLogger } from '../power/noop-logger.js';
import { CLOCK, HA_CONFIG, HA_PROVIDERS, HA_SERVICE, LOGGER, POWER_BACKEND, POWER_DRIVERS, STATE_STORE } from './tokens.js';

/** What {@link createHaContainer} wires. Everything has a default except providers. */
export interface HaContainerOptions {
  readonly providers?: readonly HAProvider[];
  readonly drivers?: readonly PowerDriver[];
  readonly clock?: Clock;
  readonly store?: StateStore;
  readonly config?: HaConfigOptions;
  readonly logger?: Logger;
  /** The power backend; typically a `PowerManagementService` built over `drivers`. */
  readonly power?: PowerBackend | ((container: DependencyContainer) => PowerBackend);
}

/**
 * Builds a child tsyringe container with explicit tokens — never the global container's
 * registrations — so several services (and tests) live side by side.
 *
 * @example
 * const c = createHaContainer({ providers: [new KvmProvider(...)], drivers: [ipmi], config });
 * c.register(HA_PROVIDERS, { useValue: anotherProvider }); // plugin families add more
 * const ha = c.resolve<HaService>(HA_SERVICE);
 */
export function createHaContainer(options: HaContainerOptions = {}): DependencyContainer {
  const c = root.createChildContainer();
  c.register(CLOCK, { useValue: options.clock ?? systemClock });
  c.register(STATE_STORE, { useValue: options.store ?? new MemoryStateStore() });
  c.register(HA_CONFIG, { useValue: parseConfig(options.config ?? {}) });
  c.register(LOGGER, { useValue: options.logger ?? noopLogger });
  for (const p of options.providers ?? []) c.register(HA_PROVIDERS, { useValue: p });
  for (const d of options.drivers ?? []) c.register(POWER_DRIVERS, { useValue: d });
  const power = options.power;
  if (power) c.register(POWER_BACKEND, { useFactory: instanceCachingFactory((k) => (typeof power === 'function' ? power(k) : power)) });
  c.register(HA_SERVICE, {
    useFactory: instanceCachingFactory((k) => new HaService({
      providers: k.isRegistered(HA_PROVIDERS, true) ? k.resolveAll<HAProvider>(HA_PROVIDERS) : [],
      clock: k.resolve<Clock>(CLOCK),
      store: k.resolve<StateStore>(STATE_STORE),
      config: k.resolve<HaConfig>(HA_CONFIG),
      logger: k.resolve<Logger>(LOGGER),
      power: k.isRegistered(POWER_BACKEND, true) ? k.resolve<PowerBackend>(POWER_BACKEND) : undefined,
    })),
  });
  return c;
}
