/** The two kinds of check the engine runs (docs/behaviour.md#resource-states). */
export type CheckKind = 'health' | 'activity';

/**
 * How a check ended: `ok` (healthy / activity seen), `failed` (unhealthy / no activity),
 * `timeout` (its deadline passed), `error` (the provider threw, or answered an `error`
 * verdict or a malformed result). A cancelled check is not reported.
 */
export type CheckResult = 'ok' | 'failed' | 'timeout' | 'error';

/**
 * Hooks for what events do not carry (metrics): called synchronously on the engine's hot
 * paths with plain arguments — no object is built per call. Keep them cheap; a hook that
 * throws is ignored.
 */
export interface EngineObserver {
  /** A health or activity check ended after `durationMs` on the engine clock. */
  checkEnded?(kind: CheckKind, result: CheckResult, durationMs: number): void;
  /**
   * Partition `partition` was reassessed once (docs/behaviour.md#partitions): its members counted and its conditions
   * asked. Reassessment is coalesced, so this counts passes, not the member changes that asked for them.
   */
  partitionAssessed?(partition: string): void;
}

/** Queue figures of one scheduler lane. */
export interface LaneStats {
  /** Jobs running in the lane now (a job held by the fence budget lends its slot). */
  readonly busy: number;
  /** The lane's concurrency limit. */
  readonly capacity: number;
}

/** Scheduler figures: queued jobs, shed health checks (since start) and each lane's occupancy. */
export interface SchedulerStats {
  readonly queued: number;
  readonly shed: number;
  readonly lanes: Readonly<Record<'health' | 'activity' | 'recover' | 'fence', LaneStats>>;
}
