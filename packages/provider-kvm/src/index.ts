export type {
  HeartbeatRecord,
  AgentHealth,
  AgentConnectivity,
  ArmRequest,
  HeartbeatObservation,
  NeighborExecutor,
  KvmHostFacts,
  KvmInventory,
  VmVolume,
  VmVolumeDirectory,
  VolumeActivity,
  VolumeReadFailure,
} from './ports.js';

export { KvmProvider } from './provider/kvm-provider.js';
export { registerKvmProvider } from './provider/register-kvm-provider.js';
export type { KvmAlert } from './provider/kvm-provider.js';
export { kvmProviderConfig } from './provider/kvm-options.js';
export type { KvmProviderOptions, KvmProviderConfig } from './provider/kvm-options.js';
export { LeaseTracker } from './provider/lease-tracker.js';
export type { LeaseEvidence, NoLeaseCode } from './provider/lease-tracker.js';
export { MemoryArmRecords, StoreArmRecords, ArmGenConflictError } from './provider/arm-records.js';
export type { ArmRecord, ArmRecords } from './provider/arm-records.js';
export { CheckerPool } from './provider/checker-pool.js';
export { sampleVolumes } from './provider/volume-sample.js';

export { HostAgent } from './agent/host-agent.js';
export type { HostAgentOptions, HostAgentStatus } from './agent/host-agent.js';
export { HeartbeatWriter, nodeHeartbeatFs } from './agent/heartbeat-writer.js';
export type { HeartbeatFsLike, HeartbeatWriterOptions } from './agent/heartbeat-writer.js';
export { readHeartbeatTwice, nodeHeartbeatReadFs } from './agent/heartbeat-reader.js';
export type { HeartbeatReadFsLike, VolumeReadRequest } from './agent/heartbeat-reader.js';
export {
  FileVolumeReader,
  VolumeReadError,
  nodeVolumeFs,
  VOLUME_MISSING,
  VOLUME_UNSUPPORTED,
} from './agent/volume-reader.js';
export type { VolumeReader, VolumeFsLike, FileVolumeReaderOptions } from './agent/volume-reader.js';
export {
  readVolumePass,
  compareVolumePasses,
  DEFAULT_VOLUME_PASS_LIMITS,
  MAX_VOLUMES_PER_READ,
} from './agent/volume-activity.js';
export type { VolumePass, VolumePassLimits } from './agent/volume-activity.js';
export { VirshVmInventory, FileVmInventory, VmInventoryError, MAX_LISTED_VOLUMES } from './agent/vm-inventory.js';
export type { VmInventory } from './agent/vm-inventory.js';
export {
  heartbeatPath,
  encodeHeartbeat,
  decodeHeartbeat,
  sameHeartbeat,
  armGenOf,
  DEFAULT_HEARTBEAT_DIR,
} from './agent/heartbeat-file.js';
export { IsolationMonitor } from './agent/self-fence.js';
export type {
  IsolationMonitorOptions,
  IsolationVerdict,
  PeerStatus,
  PeerProbe,
  PeerAnswer,
  PeerFailure,
} from './agent/self-fence.js';
export { DeviceWatchdog, SimulatedWatchdog, detectWatchdogKind, readWatchdogTimeoutMs } from './agent/watchdog.js';
export type { Watchdog, WatchdogKind } from './agent/watchdog.js';
export {
  createAgentServer,
  tokenMatches,
  AGENT_KEEP_ALIVE_MS,
  MAX_READ_WINDOW_MS,
  MAX_BODY,
  PEER_ROUTES,
} from './agent/agent-server.js';
export type { AgentHandlers, AgentServerOptions, AgentServerTls, ArmOutcome } from './agent/agent-server.js';
export type { ConnectionLimits } from '@hafence/core/internal';
export {
  connectionLimits,
  readNofileSoftLimit,
  DESCRIPTOR_RESERVE,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_PER_ADDRESS,
} from './agent/descriptor-budget.js';
export { AuthFailureLog } from './agent/auth-failure-log.js';
export type { AuthFailureLogOptions } from './agent/auth-failure-log.js';
export {
  HeartbeatWriteError,
  HeartbeatFormatError,
  AgentConfigError,
  ArmRefusedError,
  isLocalResourceError,
  LOCAL_RESOURCE_ERRNOS,
} from './agent/agent-errors.js';

export { HttpAgentConnectivity, HttpNeighborExecutor } from './standalone/http-ports.js';
export { HttpVolumeDirectory } from './standalone/http-volume-directory.js';
export type { HttpPortsOptions, AgentDirectory } from './standalone/http-ports.js';
export {
  agentRequest,
  agentClientIdleMs,
  AGENT_CLIENT_DEFAULT_IDLE_MS,
  AGENT_CLIENT_MAX_IDLE_MS,
  MAX_AGENT_ANSWER,
} from './standalone/agent-client.js';
export type { AgentRequestOptions, AgentClientTls } from './standalone/agent-client.js';
export { closeIdleAgentConnections } from './standalone/agent-wire.js';
export { readTokenFile } from './standalone/token-file.js';
export { systemWatchdog, NO_WATCHDOG, SOFTDOG_MARGIN_S } from './agent/system-watchdog.js';
export type { WatchdogChoice } from './agent/system-watchdog.js';
export { virshStopVms } from './agent/vm-stopper.js';
