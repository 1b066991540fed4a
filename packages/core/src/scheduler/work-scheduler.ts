import { Observable, Subject, mergeMap, type Subscription } from 'rxjs';
import type { Clock } from '../spi/clock.js';
import { TimeoutError } from '../errors/power-errors.js';
import { AbortedError } from '../errors/engine-errors.js';
import { FifoQueue, type FifoEntry } from './fifo-queue.js';
import { PausableDeadline } from './pausable-deadline.js';

/** The four kinds of work, each with its own concurrency limit (docs/behaviour.md#scheduling-and-guards). */
export type Lane = 'health' | 'activity' | 'recover' | 'fence';

/** Concurrency limit per lane. */
export type LaneLimits = Readonly<Record<Lane, number>>;

/** What a job's work function receives. */
export interface JobControl {
  /** Aborted on timeout, cancellation or shutdown. */
  readonly signal: AbortSignal;
  /** Runs `promise` with the job's timeout paused (a held stop command). */
  hold<T>(promise: Promise<T>): Promise<T>;
}

/** How a job ended. */
export type JobOutcome<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'timeout'; readonly error: TimeoutError }
  | { readonly kind: 'cancelled'; readonly reason: string };

/** A submitted job: cancel it, or await its outcome. */
export interface JobHandle<T> {
  cancel(reason: string): void;
  readonly outcome: Promise<JobOutcome<T>>;
}

/** Options of {@link WorkScheduler}. */
export interface WorkSchedulerOptions {
  readonly clock: Clock;
  readonly limits: LaneLimits;
  /** Jobs waiting across all lanes before health checks are shed (docs/behaviour.md#scheduling-and-guards). */
  readonly maxQueued: number;
}

interface Job {
  readonly lane: Lane;
  readonly op: string;
  readonly timeoutMs: number;
  readonly work: (control: JobControl) => Promise<unknown>;
  readonly settle: (outcome: JobOutcome<unknown>) => void;
  state: 'queued' | 'running' | 'done';
  entry?: FifoEntry<Job>;
  abort?: (reason: string) => void;
  /** Nested holds in progress; a held job gives its lane slot back. */
  holds: number;
}

/**
 * Runs provider work on RxJS lanes: a concurrency limit per lane (jobs are handed to the
 * lane's `mergeMap` only when a slot is free; a job held by the fence budget lends its
 * slot), a bounded wait queue that sheds the oldest health check first (never a recovery
 * or fence), and a timeout per job on the injected clock that aborts the work for real.
 */
export class WorkScheduler {
  private readonly lanes = new Map<Lane, Subject<Job>>();
  private readonly subscriptions: Subscription[] = [];
  // Per lane, oldest first. A job is handed to its lane's `mergeMap` only when a slot is
  // free, so RxJS never buffers: its buffer drains with `Array.shift()` (O(n) on a large
  // queue) and recursively through jobs cancelled while buffered (a stack overflow that
  // silently kills the lane after ~800 of them).
  private readonly waiting = new Map<Lane, FifoQueue<Job>>();
  private readonly running = new Map<Lane, number>();
  private waitingCount = 0;
  private closed = false;
  /** Outcomes of the jobs running now (held ones included). */
  private readonly runningJobs = new Set<Promise<unknown>>();
  /** Health checks dropped because the queue was full. */
  shed = 0;

  /** Builds the lanes. */
  constructor(private readonly options: WorkSchedulerOptions) {
    for (const lane of ['health', 'activity', 'recover', 'fence'] as const) {
      const subject = new Subject<Job>();
      this.lanes.set(lane, subject);
      this.waiting.set(lane, new FifoQueue());
      this.running.set(lane, 0);
      // The pump enforces the lane's limit (so a held job can lend its slot); mergeMap
      // only runs what the pump hands it.
      this.subscriptions.push(subject.pipe(mergeMap((job) => this.run$(job))).subscribe());
    }
  }

  /** Jobs waiting for a free slot, all lanes. */
  get queued(): number {
    return this.waitingCount;
  }

  /** The concurrency limit of `lane`. */
  capacity(lane: Lane): number {
    return this.options.limits[lane];
  }

  /** Jobs running in `lane`. */
  active(lane: Lane): number {
    return this.running.get(lane) ?? 0;
  }

  /** Submits work to a lane; its timeout starts when it starts running. */
  submit<T>(lane: Lane, op: string, timeoutMs: number, work: (control: JobControl) => Promise<T>): JobHandle<T> {
    let settle!: (o: JobOutcome<T>) => void;
    const outcome = new Promise<JobOutcome<T>>((resolve) => (settle = resolve));
    const job: Job = { lane, op, timeoutMs, work, settle: settle as Job['settle'], state: 'queued', holds: 0 };
    if (this.closed) {
      job.state = 'done';
      settle({ kind: 'cancelled', reason: 'scheduler closed' });
      return { cancel: () => {}, outcome };
    }
    this.makeRoom(job);
    if (job.state === 'queued') {
      job.entry = this.waiting.get(lane)!.push(job);
      this.waitingCount++;
      this.pump(lane);
    }
    return { cancel: (reason) => this.cancel(job, reason), outcome };
  }

  /**
   * Refuses new work (a later `submit` is cancelled at once), cancels every waiting job and
   * resolves when every running job — held ones included — has ended. Running work is not
   * aborted: {@link WorkScheduler.close} does that.
   */
  async drain(): Promise<void> {
    this.closed = true;
    for (const queue of this.waiting.values()) for (const job of queue.values()) this.cancel(job, 'scheduler closed');
    while (this.runningJobs.size > 0) await Promise.all([...this.runningJobs]);
  }

  /** Jobs running now, all lanes (held ones included). */
  get inFlight(): number {
    return this.runningJobs.size;
  }

  /** Cancels everything and stops the lanes. */
  close(): void {
    this.closed = true;
    for (const queue of this.waiting.values()) for (const job of queue.values()) this.cancel(job, 'scheduler closed');
    for (const s of this.subscriptions) s.unsubscribe();
  }

  private makeRoom(incoming: Job): void {
    if (this.waitingCount < this.options.maxQueued) return;
    const victim = this.waiting.get('health')!.peek();
    if (victim) {
      this.shed++;
      this.cancel(victim, 'shed: queue full');
    } else if (incoming.lane === 'health') {
      this.shed++;
      incoming.state = 'done';
      incoming.settle({ kind: 'cancelled', reason: 'shed: queue full' });
    }
    // A recovery or fence is never shed: it joins the queue above the bound.
  }

  private cancel(job: Job, reason: string): void {
    if (job.state === 'done') return;
    if (job.state === 'queued') {
      this.unqueue(job);
      job.state = 'done';
      job.settle({ kind: 'cancelled', reason });
      return;
    }
    job.abort?.(reason);
  }

  private unqueue(job: Job): void {
    if (job.entry && this.waiting.get(job.lane)!.remove(job.entry)) this.waitingCount--;
    job.entry = undefined;
  }

  private lendSlot(job: Job): void {
    this.running.set(job.lane, this.active(job.lane) - 1);
    this.pump(job.lane);
  }

  /** Hands the oldest waiting jobs of `lane` to its `mergeMap` while it has free slots. */
  private pump(lane: Lane): void {
    const queue = this.waiting.get(lane)!;
    const subject = this.lanes.get(lane)!;
    while (!this.closed && queue.size > 0 && this.active(lane) < this.options.limits[lane]) {
      const job = queue.peek()!;
      subject.next(job); // a slot is free: it starts now and leaves the queue
      if (job.state === 'queued') break; // defensive: never spin if it did not start
    }
  }

  private run$(job: Job): Observable<never> {
    return new Observable<never>((subscriber) => {
      if (job.state !== 'queued') {
        subscriber.complete();
        return undefined;
      }
      this.unqueue(job);
      job.state = 'running';
      this.running.set(job.lane, this.active(job.lane) + 1);
      const controller = new AbortController();
      let ended!: () => void;
      const end = new Promise<void>((resolve) => (ended = resolve));
      this.runningJobs.add(end);
      const finish = (outcome: JobOutcome<unknown>) => {
        if (job.state === 'done') return;
        job.state = 'done';
        this.runningJobs.delete(end);
        ended();
        deadline.cancel();
        if (job.holds === 0) this.running.set(job.lane, this.active(job.lane) - 1);
        job.settle(outcome);
        subscriber.complete();
        this.pump(job.lane);
      };
      const deadline = new PausableDeadline(this.options.clock, job.timeoutMs, () => {
        const error = new TimeoutError(job.op, job.timeoutMs);
        controller.abort(error);
        finish({ kind: 'timeout', error });
      });
      job.abort = (reason) => {
        controller.abort(new AbortedError(reason));
        finish({ kind: 'cancelled', reason });
      };
      const control: JobControl = {
        signal: controller.signal,
        // While held (a stop command waiting for the fence budget) the job neither uses its
        // timeout nor its lane slot: other work of the lane, e.g. proof that needs no
        // command, must not starve behind it (docs/behaviour.md#scheduling-and-guards).
        hold: async (promise) => {
          deadline.pause();
          if (job.holds++ === 0) this.lendSlot(job);
          try {
            return await promise;
          } finally {
            deadline.resume();
            if (--job.holds === 0 && job.state === 'running') this.running.set(job.lane, this.active(job.lane) + 1);
          }
        },
      };
      let pending: Promise<unknown>;
      try {
        pending = job.work(control);
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(
        (value) => finish({ kind: 'ok', value }),
        (error: unknown) =>
          finish(controller.signal.aborted ? { kind: 'cancelled', reason: String(error) } : { kind: 'error', error }),
      );
      // Unsubscribing (scheduler closed) aborts the work.
      return () => {
        if (job.state === 'running') job.abort?.('scheduler closed');
      };
    });
  }
}
