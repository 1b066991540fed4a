import type { Clock } from '../spi/clock.js';
import type { FenceLogEntry, StateStore, StopVerdict } from '../spi/state-store.js';
import { delay } from '../util/delay.js';

/** Limits of the fence budget for one request. */
export interface BudgetLimits {
  readonly perPartition: number;
  readonly global: number;
  readonly windowMs: number;
}

/** Called once when a scope's budget starts holding commands. */
export type HaltListener = (scope: string, reason: string) => void;

const RECHECK_MS = 60_000;

/**
 * The fence budget (docs/behaviour.md#scheduling-and-guards): at most N stop commands per partition and globally within
 * any sliding window, counted in the store so it survives restarts. An exhausted budget
 * holds the command (it is not sent and not failed) until the window frees a slot or
 * an operator resumes.
 */
export class FenceBudget {
  private lock: Promise<void> = Promise.resolve();
  private readonly resumedAt = new Map<string, number>();
  private readonly halted = new Set<string>();
  private readonly waiters = new Set<() => void>();

  /** Builds the budget over `store`. */
  constructor(
    private readonly store: StateStore,
    private readonly clock: Clock,
    private readonly onHalt: HaltListener,
  ) {}

  /**
   * Waits for a free slot, then records `entry` in the fence log — atomically with the
   * check ({@link StateStore.takeStop}), so two callers, or two servers, never take the
   * last slot twice.
   */
  async take(entry: Omit<FenceLogEntry, 'at'>, limits: BudgetLimits, signal: AbortSignal): Promise<void> {
    for (;;) {
      const verdict = await this.exclusive(async () => {
        const resumedAt = Object.fromEntries(this.resumedAt);
        const taken = await this.store.takeStop({ ...entry, at: this.clock.now() }, { ...limits, resumedAt });
        if (taken.taken) {
          this.halted.delete(entry.partition);
          this.halted.delete('global');
          return undefined;
        }
        return { scope: taken.scope, reason: haltReason(taken, limits) };
      });
      if (!verdict) return;
      if (!this.halted.has(verdict.scope)) {
        this.halted.add(verdict.scope);
        this.onHalt(verdict.scope, verdict.reason);
      }
      await this.waitForChange(signal, Math.min(RECHECK_MS, Math.max(1_000, limits.windowMs / 4)));
    }
  }

  /** Operator override: commands before now no longer count for `scope` (`global` or a partition). */
  resume(scope: string): void {
    this.resumedAt.set(scope, this.clock.now());
    for (const wake of [...this.waiters]) wake();
  }

  /** Whether `scope` is currently holding commands. */
  isHalted(scope: string): boolean {
    return this.halted.has(scope);
  }

  private waitForChange(signal: AbortSignal, recheckMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const wake = () => {
        this.waiters.delete(wake);
        resolve();
      };
      this.waiters.add(wake);
      delay(this.clock, recheckMs, signal).then(wake, (err: unknown) => {
        this.waiters.delete(wake);
        reject(err);
      });
    });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

function haltReason(verdict: Extract<StopVerdict, { taken: false }>, limits: BudgetLimits): string {
  const within = `${verdict.count} stop commands within ${limits.windowMs / 60_000} min`;
  return verdict.scope === 'global'
    ? `${within} across all partitions (limit ${verdict.limit})`
    : `${within} (limit ${verdict.limit})`;
}
