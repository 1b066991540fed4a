import { registerPowerDriver, type HaContainer } from '@hafence/core';
import { IpmiPowerDriver, type IpmiPowerDriverOptions } from './driver/ipmi-power-driver.js';

/**
 * Adds the native IPMI driver (`ipmi`) to an hafence container; the power service the
 * container builds uses it for every binding that names it (or by default).
 *
 * @example
 * const c = createHaContainer({ config });
 * registerIpmiDriver(c);
 */
export function registerIpmiDriver(container: HaContainer, options: IpmiPowerDriverOptions = {}): void {
  registerPowerDriver(container, new IpmiPowerDriver(options));
}
