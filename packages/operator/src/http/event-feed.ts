import type { HaEvent } from '@hafence/core';

/** One event of the live feed with its sequence number (the SSE `id`). */
export interface FeedEntry {
  readonly id: number;
  readonly event: HaEvent;
}

/** How many events the feed keeps for `Last-Event-ID` replay. */
export const FEED_RING_SIZE = 1000;

/**
 * The live event feed of the API: every engine event gets an increasing id (from 1 per
 * server start) and the last {@link FEED_RING_SIZE} are kept for replay.
 */
export class EventFeed {
  private readonly ring: FeedEntry[] = [];
  private nextId = 1;

  /** Bounds the ring (default {@link FEED_RING_SIZE}). */
  constructor(private readonly size = FEED_RING_SIZE) {}

  /** Numbers and keeps `event`; returns its entry. */
  push(event: HaEvent): FeedEntry {
    const entry = { id: this.nextId++, event };
    this.ring.push(entry);
    if (this.ring.length > this.size) this.ring.shift();
    return entry;
  }

  /** Entries with an id above `lastId` still in the ring, oldest first. */
  after(lastId: number): FeedEntry[] {
    const first = this.ring[0];
    if (!first || lastId < first.id - 1) return [...this.ring];
    return this.ring.slice(Math.max(0, lastId - first.id + 1));
  }

  /** The id of the newest event (0 before any). */
  get lastId(): number {
    return this.nextId - 1;
  }
}
