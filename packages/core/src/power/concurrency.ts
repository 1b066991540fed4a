/**
 * Runs tasks one at a time, in order: a power queue per host, so no two power
 * operations ever reach one BMC at once (docs/behaviour.md#power).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private size = 0;

  /** Tasks queued or running. */
  get pending(): number {
    return this.size;
  }

  /** Runs `task` after every task queued before it has settled. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.size++;
    const result = this.tail.then(task);
    this.tail = result.then(
      () => this.size--,
      () => this.size--,
    );
    return result;
  }
}

/** Counting semaphore: at most `limit` holders at once, the rest wait in FIFO order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  /** Builds a semaphore with `limit` (≥ 1) permits. */
  constructor(private readonly limit: number) {}

  /** Holders right now. */
  get inUse(): number {
    return this.active;
  }

  /** Runs `task` while holding a permit. */
  async with<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.active < Math.max(1, this.limit)) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.active++;
        resolve();
      }),
    );
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.();
  }
}
