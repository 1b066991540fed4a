import {
  CLOCK,
  LOGGER,
  POWER_DRIVERS,
  POWER_SERVICE,
  registerProvider,
  type Clock,
  type HaContainer,
  type Logger,
  type PowerManagementService,
} from '@hafence/core';
import { KvmProvider } from './kvm-provider.js';
import type { KvmProviderOptions } from './kvm-options.js';

/**
 * Adds the KVM provider to an hafence container. Its clock and logger default to the
 * container's, and its view of host power (`powerState`) to the power service the
 * container builds from the registered drivers (by the binding's `target.host`).
 *
 * @example
 * registerKvmProvider(c, { agents, neighbors, inventory });
 */
export function registerKvmProvider(container: HaContainer, options: KvmProviderOptions): void {
  registerProvider(container, (k) => {
    const power = k.isRegistered(POWER_DRIVERS, true) ? k.resolve<PowerManagementService>(POWER_SERVICE) : undefined;
    return new KvmProvider({
      ...options,
      clock: options.clock ?? k.resolve<Clock>(CLOCK),
      logger: options.logger ?? k.resolve<Logger>(LOGGER),
      powerState: options.powerState ?? (power && ((h) => (power.has(h) ? power.state(h) : undefined))),
    });
  });
}
