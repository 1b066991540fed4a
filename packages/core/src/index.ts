export type { Clock, ReusableTimer, TimerHandle } from './spi/clock.js';
export type { Logger, LogFields } from './spi/logger.js';
export { resourceKey } from './spi/resource.js';
export type { ResourceRef, ResourceSpec } from './spi/resource.js';
export type { Partition, PartitionKind } from './spi/partition.js';
export { Secret } from './spi/secret.js';
export { STOP_COMMANDS } from './spi/power-driver.js';
export type {
  PowerState,
  ChassisPower,
  ChassisCommand,
  PowerOperation,
  PowerTarget,
  PowerCallOptions,
  PowerDriver,
  PowerBinding,
} from './spi/power-driver.js';
export { RESOURCE_STATES, PARTITION_STATES } from './spi/states.js';
export type { ResourceState, PartitionState } from './spi/states.js';
export type { Inventory } from './spi/inventory.js';
export type {
  Actor,
  Waiting,
  ResourceDetail,
  ResourceCounts,
  ResourceStateCount,
  FenceBudgetStatus,
  PartitionDetail,
  OperatorMark,
  OperatorMaintenance,
  HaOverride,
} from './spi/operator.js';
export { defaultPartitionConditions } from './spi/ha-provider.js';
export type {
  PowerControl,
  ProviderContext,
  Verdict,
  HealthResult,
  ActivityResult,
  RecoverResult,
  FenceResult,
  LeaseStatus,
  MemberView,
  PartitionView,
  HAProvider,
} from './spi/ha-provider.js';
export type {
  Episode,
  ResourceTimers,
  ResourceRecord,
  PartitionRecord,
  FenceLogEntry,
  PowerIntent,
  StateStore,
  WriteFence,
  WriteOptions,
  StopLimits,
  StopVerdict,
  ArmRecord,
  StoredEvent,
  EventQuery,
  EventRetention,
  OutboxQuery,
  MemberRecord,
  PartitionLease,
  CoordinationStore,
} from './spi/state-store.js';

export { HaError } from './errors/ha-error.js';
export {
  AuthError,
  TimeoutError,
  UnreachableError,
  ProtocolError,
  UnsupportedOperationError,
  DriverError,
} from './errors/power-errors.js';
export {
  ConfigError,
  NotFoundError,
  FencingHaltedError,
  InvalidRequestError,
  AbortedError,
  ProviderContractError,
  LeaseLostError,
  NotOwnerError,
} from './errors/engine-errors.js';
export type { ConfigIssue } from './errors/engine-errors.js';

export { RESOURCE_EVENTS, RESOURCE_TABLE, resourceTransition } from './fsm/resource-fsm.js';
export type { ResourceEvent } from './fsm/resource-fsm.js';
export { PARTITION_EVENTS, PARTITION_TABLE, partitionTransition } from './fsm/partition-fsm.js';
export type { PartitionEvent } from './fsm/partition-fsm.js';
export { POWER_EVENTS, POWER_TABLE, powerTransition } from './fsm/power-fsm.js';
export type { PowerEvent } from './fsm/power-fsm.js';
export type { Cell, TransitionTable } from './fsm/table.js';

export { parseDuration } from './config/duration.js';
export { haConfigSchema, haSettingsSchema, DEFAULT_SETTINGS } from './config/schema.js';
export type { HaConfig, HaConfigOptions, HaSettings } from './config/schema.js';
export { parseConfig, loadConfigFile, resolveSettings } from './config/load-config.js';
export type { SettingsScope } from './config/load-config.js';
export { validateConfig, readConfigFile } from './config/validate-config.js';
export type { ValidateConfigOptions } from './config/validate-config.js';
export { checkOverrideTargets } from './config/check-override-targets.js';
export type { ConfigTargets, CheckOverrideTargetsOptions } from './config/check-override-targets.js';

export { systemClock } from './util/system-clock.js';
export { delay, raceAbort, abortReason } from './util/delay.js';
export type { HaEvent, HaEventType, AlertEvent, Requester, ReleaseProof, OperatorAction } from './events/ha-event.js';
export type { AlertCode, AlertLevel } from './spi/alert.js';

export { PowerManagementService, DEFAULT_POWER_CONFIG } from './power/power-management-service.js';
export type {
  PowerServiceOptions,
  PowerServiceConfig,
  PowerOpOptions,
  PowerTransition,
} from './power/power-management-service.js';
export {
  encryptSecret,
  decryptSecret,
  resolveCredential,
  readSecretFile,
  SECRET_KEY_ENV,
} from './power/credentials.js';
export type { CredentialRef, ResolveCredentialOptions } from './power/credentials.js';
export { noopLogger } from './power/noop-logger.js';
export { recoverByPower, fenceByPower, pollUntilOff, DEFAULT_POWER_POLL_MS } from './power/power-recipe.js';

export { clockScheduler } from './scheduler/clock-scheduler.js';

/** @deprecated internal; import from `@hafence/core/internal` (kept here until the simulators move). */
export { keyedRandom, jittered } from './util/prng.js';
export { MemoryStateStore } from './store/memory-state-store.js';
export { HaService } from './engine/ha-service.js';
export type { HaServiceOptions, ResourceStatus, StopOptions } from './engine/ha-service.js';
export type { ServiceOwnershipOptions } from './engine/owned-partitions.js';
export type { PowerBackend, PowerCallRequest } from './engine/power-backend.js';
export type { HealthProbe } from './engine/engine-deps.js';
export type { CheckKind, CheckResult, EngineObserver, LaneStats, SchedulerStats } from './engine/engine-observer.js';
export { MemoryInventory } from './engine/memory-inventory.js';
export { createHaContainer, registerPowerDriver, registerProvider } from './di/create-ha-container.js';
export type { HaContainer, HaContainerOptions } from './di/create-ha-container.js';
export {
  CLOCK,
  STATE_STORE,
  HA_PROVIDERS,
  POWER_DRIVERS,
  HA_CONFIG,
  LOGGER,
  POWER_CONFIG,
  POWER_SERVICE,
  POWER_BACKEND,
  HA_SERVICE,
} from './di/tokens.js';
