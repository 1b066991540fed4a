import type { Clock, TimerHandle } from '../spi/clock.js';
import type { Logger } from '../spi/logger.js';
import type { StateStore } from '../spi/state-store.js';

/** How the store's event history is bounded (the `eventHistory` settings, in ms and rows). */
export interface EventHistoryLimits {
  readonly retentionMs: number;
  readonly maxRows: number;
  readonly pruneIntervalMs: number;
}

/**
 * Keeps the store's event history bounded in the background: every `pruneIntervalMs` it
 * drops events older than the retention and beyond the row cap. A failed prune is logged
 * and tried again at the next turn; one prune runs at a time.
 */
export class EventHistoryPruner {
  private timer?: TimerHandle;
  private running?: Promise<void>;

  /** Builds the pruner over `store`. */
  constructor(
    private readonly store: StateStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly limits: EventHistoryLimits,
  ) {}

  /** Starts pruning: the first prune runs one interval from now. */
  start(): void {
    this.schedule();
  }

  /** Stops pruning and waits for a prune in progress. */
  async stop(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Prunes once now; resolves to the number of events dropped (0 when the store refused). */
  async pruneNow(): Promise<number> {
    try {
      return await this.store.pruneEvents({
        before: this.clock.now() - this.limits.retentionMs,
        maxRows: this.limits.maxRows,
      });
    } catch (err) {
      this.logger.warn('event history not pruned', { error: String(err) });
      return 0;
    }
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      this.running = this.pruneNow().then(() => {
        this.running = undefined;
        if (this.timer !== undefined) this.schedule();
      });
    }, this.limits.pruneIntervalMs);
  }
}
