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
  private readonly halted = new Map<string, string>();
  private readonly waiters = new Set<() => void>();
  /** Stop commands this budget took, oldest first (pruned beyond the longest window seen). */
  private readonly taken: Array<{ readonly at: number; readonly partition: string }> = [];
  /** What the store counted when asked ({@link FenceBudget.seed}) or when it refused a command, per scope. */
  private readonly counted = new Map<string, { readonly count: number; readonly at: number }>();
  private longestWindow = 0;

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
        const at = this.clock.now();
        const taken = await this.store.takeStop({ ...entry, at }, { ...limits, resumedAt });
        if (taken.taken) {
          this.halted.delete(entry.partition);
          this.halted.delete('global');
          this.remember(at, entry.partition, limits.windowMs);
          return undefined;
        }
        this.counted.set(taken.scope, { count: taken.count, at });
        return { scope: taken.scope, reason: haltReason(taken, limits) };
      });
      if (!verdict) return;
      if (!this.halted.has(verdict.scope)) {
        this.halted.set(verdict.scope, verdict.reason);
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

  /** Why `scope` holds commands, while it does. */
  haltedReason(scope: string): string | undefined {
    return this.halted.get(scope);
  }

  /**
   * Asks the store once how many stop commands `scope` (`global` or a partition) counts within the last `windowMs`,
   * so {@link FenceBudget.used} includes what an earlier run or another server sent. Called when a scope starts being
   * run here, never per status request.
   */
  async seed(scope: string, windowMs: number): Promise<void> {
    const at = this.clock.now();
    const count = await this.store.countFenceLog(at - windowMs, scope === 'global' ? undefined : scope);
    const known = this.counted.get(scope);
    if (!known || known.at <= at) this.counted.set(scope, { count, at });
  }

  /**
   * Stop commands counted in `scope`'s window now, from what this budget knows without a store read: the commands it
   * took, and the count the store gave when last asked (at a seed or a refusal) — those are taken to stay in the
   * window until a whole window after that count, so the figure may run high, never low, for commands it did not take.
   * Commands before an operator's resume of the scope do not count.
   */
  used(scope: string, windowMs: number): number {
    const now = this.clock.now();
    const from = Math.max(now - windowMs, this.resumedAt.get(scope) ?? -Infinity);
    const counted = this.counted.get(scope);
    const known = counted && counted.at > from ? counted : undefined;
    let own = 0;
    for (const e of this.taken) {
      if (e.at > from && (!known || e.at > known.at) && (scope === 'global' || e.partition === scope)) own++;
    }
    return own + (known?.count ?? 0);
  }

  private remember(at: number, partition: string, windowMs: number): void {
    this.longestWindow = Math.max(this.longestWindow, windowMs);
    this.taken.push({ at, partition });
    while (this.taken.length > 0 && this.taken[0]!.at <= at - this.longestWindow) this.taken.shift();
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
