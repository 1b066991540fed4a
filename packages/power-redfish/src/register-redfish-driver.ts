import { registerPowerDriver, type HaContainer } from '@hafence/core';
import { RedfishPowerDriver, type RedfishPowerDriverOptions } from './driver/redfish-power-driver.js';

/**
 * Adds the Redfish driver (`redfish`) to an hafence container; bindings that name it
 * (`drivers: ['redfish', 'ipmi']`) use it.
 *
 * @example
 * const c = createHaContainer({ config });
 * registerRedfishDriver(c, { caFile: '/etc/hafence/bmc-ca.pem' });
 */
export function registerRedfishDriver(container: HaContainer, options: RedfishPowerDriverOptions = {}): void {
  registerPowerDriver(container, new RedfishPowerDriver(options));
}
