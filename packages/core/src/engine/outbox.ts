import type { HaEvent } from '../events/ha-event.js';
import type { Logger } from '../spi/logger.js';
import type { StateStore } from '../spi/state-store.js';

/** How many undelivered rows one relay read fetches. */
const RELAY_PAGE = 1_000;

/**
 * The service's side of the outbox (docs/behaviour.md#persistence). A state write stores the events it causes in its
 * own transaction; once it committed they go on the bus at once ({@link OutboxRelay.committed}) and their delivery is
 * recorded in batches — one `markDelivered` call in flight at a time, the ids handed over meanwhile wait for the next
 * one — so no event costs a store round trip of its own under load. Rows whose delivery was not recorded (the process
 * died between the commit and the mark) are relayed again, in order, by {@link OutboxRelay.relay}: at start-up and
 * when a partition is taken over, before that partition's new events. Delivery is therefore at least once; every
 * event carries its row's `id` so a consumer drops duplicates.
 */
export class OutboxRelay {
  private pending: number[] = [];
  private flushing?: Promise<void>;
  /** Set by {@link OutboxRelay.close}: no more marks (the store is being closed). */
  private closed = false;

  /** Builds the relay over `store`; `publish` puts an event on the bus (and nowhere else). */
  constructor(
    private readonly store: StateStore,
    private readonly publish: (event: HaEvent) => void,
    private readonly logger: Logger,
  ) {}

  /** Events of a committed write, each with its row's `id`: on the bus now, marked delivered in the next batch. */
  committed(events: readonly HaEvent[]): void {
    for (const e of events) {
      this.publish(e);
      if ('id' in e && typeof e.id === 'number') this.pending.push(e.id);
    }
    this.kick();
  }

  /**
   * Emits the undelivered rows of `partition` (of every partition without it), oldest first, with their ids, and marks
   * them delivered. Resolves to how many were relayed; a store that cannot be read rejects (nothing is emitted twice).
   */
  async relay(partition?: string): Promise<number> {
    let after = 0;
    let relayed = 0;
    for (;;) {
      const page = await this.store.listUndelivered({
        ...(partition === undefined ? {} : { partition }),
        afterId: after,
        limit: RELAY_PAGE,
      });
      for (const row of page) {
        const event = parsed(row.json);
        if (event) {
          this.publish({ ...event, id: row.id } as HaEvent);
          relayed += 1;
        } else {
          this.logger.error('outbox row not relayed: not an event', { id: row.id, type: row.type });
        }
        this.pending.push(row.id);
      }
      this.kick();
      const last = page.at(-1);
      if (page.length < RELAY_PAGE || last === undefined) break;
      after = last.id;
    }
    if (relayed > 0) this.logger.info('undelivered events relayed', { count: relayed, partition: partition ?? '*' });
    return relayed;
  }

  /** Waits until every delivery handed over so far has been recorded (or its recording failed). */
  async drain(): Promise<void> {
    this.kick();
    while (this.flushing) await this.flushing;
  }

  /**
   * Shutdown: no delivery is recorded any more, so the store gets no call once it is being closed. A write that commits
   * later (it outlived the stop's wait) still has its rows undelivered: the next start relays them.
   */
  close(): void {
    this.closed = true;
    this.pending = [];
  }

  private kick(): void {
    if (this.closed || this.flushing || this.pending.length === 0) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      this.kick();
    });
  }

  private async flush(): Promise<void> {
    const ids = this.pending;
    this.pending = [];
    try {
      await this.store.markDelivered(ids);
    } catch (err) {
      // Not retried here (a store that is down would spin): the rows are relayed again by the next owner or start.
      this.logger.warn('event deliveries not recorded', { count: ids.length, error: String(err) });
    }
  }
}

/** A stored event's JSON as an event, or undefined when it is not one. */
function parsed(json: string): HaEvent | undefined {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
      ? (value as HaEvent)
      : undefined;
  } catch {
    return undefined;
  }
}
