/**
 * `@hafence/power-redfish`: the Redfish power driver. The response readers are under the
 * `@hafence/power-redfish/protocol` subpath.
 * @packageDocumentation
 */
export { RedfishPowerDriver } from './driver/redfish-power-driver.js';
export type { RedfishPowerDriverOptions } from './driver/redfish-power-driver.js';
export type { RedfishTargetOptions } from './driver/redfish-target.js';
export { registerRedfishDriver } from './register-redfish-driver.js';
