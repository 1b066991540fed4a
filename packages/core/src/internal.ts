/**
 * `@hafence/core/internal`: building blocks the hafence packages share (the work
 * scheduler, a semaphore, seeded jitter, input rules of the configuration and CLI,
 * redaction). Not part of the embedding API: it may change in any release without notice.
 */
export { Semaphore } from './power/concurrency.js';
export { WorkScheduler } from './scheduler/work-scheduler.js';
export type {
  Lane,
  LaneLimits,
  JobControl,
  JobOutcome,
  JobHandle,
  WorkSchedulerOptions,
} from './scheduler/work-scheduler.js';
export { keyedRandom, keyedSequence, jittered } from './util/prng.js';
export { withClockSignal } from './util/delay.js';
export { DueQueue, reusableTimer } from './util/due-queue.js';
export type { ClockSignalOptions } from './util/delay.js';
export { hasControlChars, isHostOrIp, addressRule, envNameRule, isReservedKey } from './config/safe-values.js';
export { decodeUtf8 } from './config/validate-config.js';
export { readRegularFile } from './util/read-regular-file.js';
export type { RegularFileRule } from './util/read-regular-file.js';
export { redact } from './power/redact.js';
export { EventHistoryPruner } from './engine/event-history.js';
export { FenceBudget } from './engine/fence-budget.js';
export type { BudgetLimits } from './engine/fence-budget.js';
export type { EventHistoryLimits } from './engine/event-history.js';
export { decide, deadlineOf, entryAlerts, activityStep, timerEvent, resumeEvent } from './engine/decide.js';
export type { StepInput, StepContext, StepEffect, StepEvent, StepDecision, ActivityStep } from './engine/decide.js';
export {
  maintenanceEvent,
  eligibilityEvent,
  healthEvent,
  recoverStep,
  fenceStep,
  leaseStep,
  leftOffStep,
  recoverStart,
  gateUntil,
  errorText,
} from './engine/outcomes.js';
export type { EventStep, RecoverStep, FenceStep, LeaseStep, LeftOffStep, RecoverStart } from './engine/outcomes.js';
export { Ownership } from './cluster/ownership.js';
export type { OwnershipOptions, OwnershipListener, LeaseTiming } from './cluster/ownership.js';
export { preferredOwner } from './cluster/rendezvous.js';
export { FencedStateStore } from './cluster/fenced-store.js';
export type { FenceSource } from './cluster/fenced-store.js';
export { guardConnections, markBusy } from './net/connection-guard.js';
export type { ConnectionLimits } from './net/connection-guard.js';
export { createHttpServer, HTTP_SERVER_TIMEOUTS } from './net/create-http-server.js';
export type { HttpServerTls } from './net/create-http-server.js';
