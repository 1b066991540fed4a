/**
 * The simulated BMC (`@hafence/power-ipmi/sim`): an RMCP+ server over UDP speaking the protocol of this package, for
 * tests and demos.
 */
export { SimBmc } from './sim-bmc.js';
export type { SimBmcOptions, SimBmcFaults } from './sim-bmc.js';
export { SimBmcEngine } from './sim-bmc-engine.js';
export type { SimBmcEngineOptions } from './sim-bmc-engine.js';
export { SimChassis } from './sim-chassis.js';
export type { SimChassisOptions, ChassisLogEntry } from './sim-chassis.js';
export { DEFAULT_SIM_USERS } from './sim-users.js';
export type { SimUser } from './sim-users.js';
export type { SimSession } from './sim-session.js';
