/**
 * `@hafence/sim`: the simulators hafence itself runs (`hafence demo`) and tests with — a
 * simulated KVM cluster with its hosts, shared storage, agents and BMCs, the scenario format,
 * loader and runner, (re-exported from `@hafence/power-ipmi/sim`) the RMCP+ BMC simulator, and the Redfish BMC
 * simulator {@link RedfishSim} (HTTPS, sessions, vendor variants, faults).
 * @packageDocumentation
 */
export { SimKvmCluster } from './kvm/sim-kvm-cluster.js';
export type { SimKvmClusterOptions, SimNote } from './kvm/sim-kvm-cluster.js';
export { SimHost } from './kvm/sim-host.js';
export type { SimOsState, SimVm } from './kvm/sim-host.js';
export { SimSharedStore } from './kvm/sim-shared-store.js';
export type { MountState } from './kvm/sim-shared-store.js';
export { SimBmcDriver } from './kvm/sim-bmc-driver.js';
export type { ChassisListener } from './kvm/sim-bmc-driver.js';
export { SimAgentConnectivity } from './kvm/sim-agent-connectivity.js';
export { SimNeighborExecutor } from './kvm/sim-neighbor-executor.js';
export { SimVolumeDirectory } from './kvm/sim-volume-directory.js';
export { SimKvmInventory } from './kvm/sim-kvm-inventory.js';
export { createSimKvmEnv } from './kvm/create-sim-kvm-env.js';
export { SimServers } from './kvm/sim-servers.js';
export type { SimServer } from './kvm/sim-servers.js';
export { SimServerBmc } from './kvm/sim-server-bmc.js';
export type { SimBmcCommand } from './kvm/sim-server-bmc.js';
export { simServerStore, StoreUnreachableError } from './kvm/sim-server-store.js';
export type { SimServerStore, SimStoreLink } from './kvm/sim-server-store.js';
export type { ServerParts, ServerPieces, ServerWiring } from './kvm/sim-server-parts.js';
export type { SimKvmEnv, SimKvmEnvOptions, SimKvmTiming } from './kvm/create-sim-kvm-env.js';
export {
  scenarioSchema,
  scenarioStepSchema,
  scenarioExpectSchema,
  parseScenarioDuration,
} from './scenario/scenario-schema.js';
export type { Scenario, ScenarioOptions, ScenarioStep, ScenarioExpect } from './scenario/scenario-schema.js';
export { parseScenario, loadScenarioFile } from './scenario/load-scenario.js';
export { ScenarioError, UnsupportedScenarioError } from './scenario/scenario-error.js';
export type { ScenarioIssue } from './scenario/scenario-error.js';
export { ScenarioRun, runScenario, toJsonLines } from './scenario/scenario-run.js';
export type { ScenarioLine, ScenarioRunOptions } from './scenario/scenario-run.js';
export { applyStep } from './scenario/apply-step.js';
export { SimBmc, SimBmcEngine, SimChassis, DEFAULT_SIM_USERS } from '@hafence/power-ipmi/sim';
export type {
  SimBmcOptions,
  SimBmcFaults,
  SimBmcEngineOptions,
  SimChassisOptions,
  ChassisLogEntry,
  SimUser,
  SimSession,
} from '@hafence/power-ipmi/sim';
export { RedfishSim } from './redfish/redfish-sim.js';
export type { RedfishSimStats } from './redfish/redfish-sim.js';
export type { RedfishSimOptions, RedfishSimFault } from './redfish/redfish-sim-options.js';
export { REDFISH_VARIANTS, redfishVariantProfile } from './redfish/redfish-variant.js';
export type { RedfishVariant, RedfishVariantProfile, ResetReply } from './redfish/redfish-variant.js';
export type {
  RedfishPowerDelays,
  RedfishPowerState,
  RedfishResetRecord,
  SimPowerState,
} from './redfish/redfish-power.js';
export { generateSelfSignedCertificate } from './redfish/self-signed-cert.js';
export type { CertificatePem, SelfSignedOptions } from './redfish/self-signed-cert.js';
