import { registerPowerDriver, type HaContainer } from '@hafence/core';
import { ScriptPowerDriver, type ScriptPowerDriverOptions } from './script-power-driver.js';

/**
 * Adds the script driver (`script`: ipmitool, a fence agent or your own command) to an
 * hafence container; bindings name it with `drivers: ['script']`.
 *
 * @example
 * registerScriptDriver(c, { preset: 'fence-agent', fenceAgent: { agent: 'fence_ipmilan' } });
 */
export function registerScriptDriver(container: HaContainer, options: ScriptPowerDriverOptions): void {
  registerPowerDriver(container, new ScriptPowerDriver(options));
}
