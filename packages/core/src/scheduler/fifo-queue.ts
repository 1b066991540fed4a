/** A place in a {@link FifoQueue}, kept by the owner to remove the entry in O(1). */
export interface FifoEntry<T> {
  readonly value: T;
  prev?: FifoEntry<T>;
  next?: FifoEntry<T>;
  queued: boolean;
}

/**
 * A first-in first-out queue with O(1) push, peek, shift and removal from the middle.
 *
 * The work scheduler's wait queue holds up to `maxQueued` jobs (200,000 by default) and
 * removes them from the front all the time. A `Set` would keep its insertion order, but
 * V8 leaves deleted entries in place until it rehashes, so finding the oldest entry
 * after many deletions at the front walks every hole; an array's `shift()` copies the
 * whole array once it is large. Both are O(n) per job at scale.
 */
export class FifoQueue<T> {
  private head?: FifoEntry<T>;
  private tail?: FifoEntry<T>;
  private count = 0;

  /** Entries in the queue. */
  get size(): number {
    return this.count;
  }

  /** The oldest value, or `undefined` when empty. */
  peek(): T | undefined {
    return this.head?.value;
  }

  /** Appends `value`; keep the entry to {@link remove} it later. */
  push(value: T): FifoEntry<T> {
    const entry: FifoEntry<T> = { value, prev: this.tail, queued: true };
    if (this.tail) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
    this.count++;
    return entry;
  }

  /** Removes `entry`; false when it was no longer queued. */
  remove(entry: FifoEntry<T>): boolean {
    if (!entry.queued) return false;
    entry.queued = false;
    if (entry.prev) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.tail = entry.prev;
    entry.prev = entry.next = undefined;
    this.count--;
    return true;
  }

  /** Every value, oldest first (a snapshot: safe to remove while iterating). */
  values(): T[] {
    const out: T[] = [];
    for (let e = this.head; e; e = e.next) out.push(e.value);
    return out;
  }
}
