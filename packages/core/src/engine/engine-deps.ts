import type { HaConfig } from '../config/schema.js';
import type { HaEvent } from '../events/ha-event.js';
import type { AlertCode, AlertLevel } from '../spi/alert.js';
import type { Clock } from '../spi/clock.js';
import type { Logger } from '../spi/logger.js';
import type { StateStore } from '../spi/state-store.js';
import type { PartitionState } from '../spi/states.js';
import type { WorkScheduler } from '../scheduler/work-scheduler.js';
import type { CheckKind, CheckResult } from './engine-observer.js';
import type { FenceBudget } from './fence-budget.js';
import type { MemoryInventory } from './memory-inventory.js';
import type { PowerBackend } from './power-backend.js';

/**
 * Observes every health check start (benchmarks measure lateness with it): `dueAt` the check was due, `startedAt` it
 * started running in its lane, `firedAt` its timer fired (so `firedAt − dueAt` is timer lateness and
 * `startedAt − firedAt` the wait for a free slot of the health lane).
 */
export type HealthProbe = (dueAt: number, startedAt: number, firedAt: number) => void;

/** What the resource and partition engines share. */
export interface EngineDeps {
  readonly clock: Clock;
  readonly store: StateStore;
  readonly scheduler: WorkScheduler;
  readonly config: HaConfig;
  readonly logger: Logger;
  readonly inventory: MemoryInventory;
  readonly power?: PowerBackend;
  readonly budget: FenceBudget;
  readonly startedAt: number;
  readonly healthProbe?: HealthProbe;
  /** A health or activity check ended (the service's `EngineObserver`s). */
  checkEnded(kind: CheckKind, result: CheckResult, durationMs: number): void;
  /** A partition was reassessed once (the service's `EngineObserver`s). */
  partitionAssessed(partition: string): void;
  emit(event: HaEvent): void;
  /**
   * Events a committed write stored in its outbox (docs/behaviour.md#persistence), each with its row's `id`: on the bus
   * at once, their delivery recorded in batches; they are not stored again.
   */
  emitCommitted(events: readonly HaEvent[]): void;
  /** Raises an alert with a stable `code` (docs/behaviour.md#scenarios). */
  alert(level: AlertLevel, code: AlertCode, message: string, resource?: string): void;
  /** This MS doubts itself (docs/behaviour.md#scheduling-and-guards): no recoveries or fences start. */
  selfDoubting(): boolean;
  /** A member's state, health or failing flag changed: reassess its partition. */
  membershipChanged(partition: string): void;
  /** Our own command will move `host`'s power to `to` before `until`: not news when seen. */
  expectOwnPower(host: string, to: 'ON' | 'OFF', until: number): void;
  /** Our own power-on of `host` was sent and no read has shown it ON yet. */
  awaitingOwnPowerOn(host: string | undefined): boolean;
  /** The number of failing resources changed by `delta`. */
  failingChanged(delta: number): void;
  /**
   * Several servers (docs/behaviour.md#several-servers): when this server took `partition` over — its startup grace
   * runs from then. Undefined: since {@link EngineDeps.startedAt}.
   */
  actingSince?(partition: string): number | undefined;
  /**
   * The partition's HA state now (undefined when it is not attached here): a member attached after its partition
   * became ACTIVE leaves NONE on its own first step, as the members there at the activation did.
   */
  partitionState?(partition: string): PartitionState | undefined;
  /** Observe-only (docs/observe-only.md): whether the engine, `partition` or an enclosing partition is. */
  observeOnly(partition: string): boolean;
  /**
   * Observe-only: the fence budget the would-be stop commands are counted in — in memory, never in the store, so the
   * real HA beside it is unaffected; it holds a would-be command where the real budget would hold the real one.
   */
  readonly observedBudget: FenceBudget;
  /** Several servers: why no command may be sent for `partition` now (its lease is gone), or undefined. */
  mayAct?(partition: string): string | undefined;
}
