import type { Clock, ReusableTimer, TimerHandle } from '../spi/clock.js';

/** One timer of a {@link DueQueue}: made once by its owner, armed for each firing. */
class DueEntry implements ReusableTimer {
  /** The bucket (due time) it waits in; undefined while not armed. */
  bucket: Bucket | undefined = undefined;
  prev: DueEntry | undefined = undefined;
  next: DueEntry | undefined = undefined;

  constructor(
    private readonly queue: DueQueue,
    readonly fn: () => void,
  ) {}

  arm(ms: number): void {
    this.queue.arm(this, ms);
  }

  cancel(): void {
    this.queue.remove(this);
  }
}

/** The entries due at one millisecond, in arming order (a doubly linked list). */
class Bucket {
  head: DueEntry | undefined = undefined;
  tail: DueEntry | undefined = undefined;
  /** The next bucket in the same wheel slot (due times equal modulo the wheel's size), or in the free list. */
  nextInSlot: Bucket | undefined = undefined;

  constructor(public due: number) {}
}

/** Slots of the bucket wheel: due times 16.4 s apart share a slot (a short chain); closer ones never do. */
const WHEEL_SIZE = 1 << 14;
const WHEEL_MASK = WHEEL_SIZE - 1;

/**
 * Many timers on one timer of a base clock. Entries wait in buckets, one per due millisecond (a linked list in arming
 * order) found through a wheel of slots indexed by the due time's low bits, and the buckets' due times sit in a binary
 * heap of plain numbers; one base timer is set for the earliest.
 * Arming allocates nothing per firing (each owner keeps its entry for life; a bucket is shared by every entry due in
 * the same millisecond), so 100,000 health timers that each wait ~10 s no longer make 100,000 runtime timer objects
 * that outlive a young-generation GC, and arming, moving and cancelling are O(1) but for a new due millisecond.
 *
 * Semantics of the base clock's timers, kept: an entry never runs before its due time (a base timer that fires early
 * re-arms for the rest), each runs once per arming, equal due times run in arming order, and one armed while the
 * queue is firing runs at the earliest 1 ms later even if it is due already (no callback can starve the event loop by
 * re-arming at 0). A callback that throws does not stop the others: the first error is rethrown once the queue is
 * consistent again.
 */
export class DueQueue {
  private readonly wheel: (Bucket | undefined)[] = new Array<Bucket | undefined>(WHEEL_SIZE).fill(undefined);
  /** Binary min-heap of the buckets' due times (a due time may appear after its bucket is gone: skipped). */
  private keys = new Float64Array(64);
  private keyCount = 0;
  private armed = 0;
  private baseHandle: TimerHandle | undefined;
  /** Due time of the base timer while one is set. */
  private baseDue: number | undefined;
  /** While {@link fire} runs callbacks: the time it fires at (it sets the base timer once at the end). */
  private firingAt: number | undefined;
  private readonly onBase = (): void => this.fire();
  /**
   * Drained buckets, for the next new due millisecond: a bucket lives as long as its timers wait (~10 s for health
   * checks), so a new one per millisecond would be copied out of the young generation and promoted, over and over.
   */
  private freeBuckets: Bucket | undefined;

  /** Queues timers on `base` (its `now`, `setTimeout` and `clearTimeout`). */
  constructor(private readonly base: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>) {}

  /** A timer that runs `fn` each time it comes due; not armed yet. */
  timer(fn: () => void): ReusableTimer {
    return new DueEntry(this, fn);
  }

  /** Armed entries (for tests and diagnostics). */
  get size(): number {
    return this.armed;
  }

  /** @internal (DueEntry) */
  arm(entry: DueEntry, ms: number): void {
    this.remove(entry);
    // Never before its time: +Infinity waits for ever (armed, never due); NaN and ms ≤ 0 are due now.
    let due = this.base.now() + (ms > 0 ? Math.ceil(ms) : 0);
    const firingAt = this.firingAt;
    if (firingAt !== undefined && due <= firingAt) due = firingAt + 1;
    let bucket = this.bucket(due);
    if (bucket === undefined) {
      bucket = this.freeBuckets;
      if (bucket === undefined) bucket = new Bucket(due);
      else {
        this.freeBuckets = bucket.nextInSlot;
        bucket.due = due;
      }
      const slot = due & WHEEL_MASK;
      bucket.nextInSlot = this.wheel[slot];
      this.wheel[slot] = bucket;
      this.pushKey(due);
    }
    entry.bucket = bucket;
    entry.prev = bucket.tail;
    entry.next = undefined;
    if (bucket.tail === undefined) bucket.head = entry;
    else bucket.tail.next = entry;
    bucket.tail = entry;
    this.armed++;
    if (firingAt === undefined && (this.baseDue === undefined || due < this.baseDue)) this.setBase(due);
  }

  /** @internal (DueEntry) */
  remove(entry: DueEntry): void {
    const bucket = entry.bucket;
    if (bucket === undefined) return;
    if (entry.prev === undefined) bucket.head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) bucket.tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.bucket = entry.prev = entry.next = undefined;
    // An emptied bucket stays until its due time comes up in the heap (it may be armed into again meanwhile). So does
    // the base timer while anything is armed: when it fires with nothing due it re-arms for the next entry. With
    // nothing armed it goes at once, so a stopped service leaves no runtime timer keeping the process alive.
    if (--this.armed === 0 && this.baseHandle !== undefined && this.firingAt === undefined) {
      this.base.clearTimeout(this.baseHandle);
      this.baseHandle = this.baseDue = undefined;
    }
  }

  private fire(): void {
    this.baseHandle = undefined;
    this.baseDue = undefined;
    const now = this.base.now();
    let failed = false;
    let firstError: unknown;
    this.firingAt = now;
    while (this.keyCount > 0 && this.keys[0]! <= now) {
      const bucket = this.dropBucket(this.popKey());
      if (bucket === undefined) continue;
      // Entries armed meanwhile go to later buckets (due > now), never this one: it drains.
      for (let entry = bucket.head; entry !== undefined; entry = bucket.head) {
        this.remove(entry);
        try {
          entry.fn();
        } catch (error) {
          if (!failed) firstError = error;
          failed = true;
        }
      }
      this.recycle(bucket);
    }
    this.firingAt = undefined;
    const next = this.nextDue();
    // From the time now, not the round's start: callbacks may have run a while, and what came due meanwhile is late.
    if (next !== undefined) this.setBase(next);
    if (failed) throw firstError;
  }

  /** The earliest due time with an entry waiting; drops the heap's stale due times on the way. */
  private nextDue(): number | undefined {
    while (this.keyCount > 0) {
      const due = this.keys[0]!;
      if (this.bucket(due)?.head !== undefined) return due;
      const dropped = this.dropBucket(this.popKey());
      if (dropped !== undefined) this.recycle(dropped);
    }
    return undefined;
  }

  /** Keeps an emptied bucket, out of the wheel, for a later due time. */
  private recycle(bucket: Bucket): void {
    bucket.head = bucket.tail = undefined;
    bucket.nextInSlot = this.freeBuckets;
    this.freeBuckets = bucket;
  }

  /** The bucket of `due` (an integer), if any. */
  private bucket(due: number): Bucket | undefined {
    let b = this.wheel[due & WHEEL_MASK];
    while (b !== undefined && b.due !== due) b = b.nextInSlot;
    return b;
  }

  /** Takes the bucket of `due` out of the wheel and returns it. */
  private dropBucket(due: number): Bucket | undefined {
    const slot = due & WHEEL_MASK;
    let prev: Bucket | undefined;
    let b = this.wheel[slot];
    while (b !== undefined && b.due !== due) {
      prev = b;
      b = b.nextInSlot;
    }
    if (b === undefined) return undefined;
    if (prev === undefined) this.wheel[slot] = b.nextInSlot;
    else prev.nextInSlot = b.nextInSlot;
    b.nextInSlot = undefined;
    return b;
  }

  private setBase(due: number, now = this.base.now()): void {
    if (this.baseHandle !== undefined) this.base.clearTimeout(this.baseHandle);
    this.baseDue = due;
    this.baseHandle = this.base.setTimeout(this.onBase, Math.max(0, due - now));
  }

  private pushKey(due: number): void {
    if (this.keyCount === this.keys.length) {
      const grown = new Float64Array(this.keys.length * 2);
      grown.set(this.keys);
      this.keys = grown;
    }
    const keys = this.keys;
    let at = this.keyCount++;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = keys[parentAt]!;
      if (parent <= due) break;
      keys[at] = parent;
      at = parentAt;
    }
    keys[at] = due;
  }

  private popKey(): number {
    const keys = this.keys;
    const top = keys[0]!;
    const n = --this.keyCount;
    if (n === 0) return top;
    const last = keys[n]!;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && keys[right]! < keys[left]! ? right : left;
      if (keys[child]! >= last) break;
      keys[at] = keys[child]!;
      at = child;
    }
    keys[at] = last;
    return top;
  }
}

/**
 * A reusable timer on `clock`: the clock's own when it has {@link Clock.timer}, else one made of its `setTimeout` and
 * `clearTimeout` (a runtime timer per arming, as before).
 */
export function reusableTimer(clock: Clock, fn: () => void): ReusableTimer {
  if (clock.timer) return clock.timer(fn);
  let handle: TimerHandle | undefined;
  return {
    arm(ms) {
      clock.clearTimeout(handle);
      handle = clock.setTimeout(fn, ms);
    },
    cancel() {
      clock.clearTimeout(handle);
      handle = undefined;
    },
  };
}
