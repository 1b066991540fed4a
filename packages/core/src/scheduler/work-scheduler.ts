import { Subject, type Subscription } from 'rxjs';
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

/** One lane: its limit, its RxJS subject, its wait queue (oldest first) and the jobs holding a slot. */
interface LaneState {
  readonly limit: number;
  readonly subject: Subject<Job>;
  readonly queue: FifoQueue<Job>;
  running: number;
}

/**
 * One submitted job; it is also the work's {@link JobControl} and the caller's {@link JobHandle}, so a check
 * allocates one object here rather than a job, a control, a handle and their closures. Its AbortController is
 * created only when the work reads `signal` (most quick checks never do): an abort before that is replayed on it.
 */
class Job implements JobControl, JobHandle<unknown> {
  state: 'queued' | 'running' | 'done' = 'queued';
  entry?: FifoEntry<Job>;
  /** Nested holds in progress; a held job gives its lane slot back. */
  holds = 0;
  /** While running: a deadline of the scheduler's pool, given back when the job ends. */
  deadline?: PausableDeadline<Job>;
  /** Why the job was aborted (timeout, cancellation, shutdown); the first reason wins. */
  abortReason?: Error;
  private controller?: AbortController;
  private result?: JobOutcome<unknown>;
  private resolve?: (o: JobOutcome<unknown>) => void;
  private promise?: Promise<JobOutcome<unknown>>;

  constructor(
    private readonly owner: WorkScheduler,
    readonly lane: LaneState,
    readonly op: string,
    readonly timeoutMs: number,
    readonly work: (control: JobControl) => Promise<unknown>,
    private readonly onEnd?: (outcome: JobOutcome<unknown>, job: JobHandle<unknown>) => void,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  get outcome(): Promise<JobOutcome<unknown>> {
    if (!this.promise)
      this.promise = this.result
        ? Promise.resolve(this.result)
        : new Promise<JobOutcome<unknown>>((resolve) => (this.resolve = resolve));
    return this.promise;
  }

  hold<T>(promise: Promise<T>): Promise<T> {
    return this.owner.holdJob(this, promise);
  }

  cancel(reason: string): void {
    this.owner.cancelJob(this, reason);
  }

  /** Aborts the work's signal (now, or when it is first read). */
  abort(reason: Error): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  /** Hands the outcome to the caller: its `outcome` promise and `onEnd`, in the same turn of the microtask queue. */
  settle(outcome: JobOutcome<unknown>): void {
    this.result = outcome;
    this.resolve?.(outcome);
    const onEnd = this.onEnd;
    // A reaction to the `outcome` promise would run as a microtask queued now: so does onEnd.
    if (onEnd) queueMicrotask(() => onEnd(outcome, this as unknown as JobHandle<unknown>));
  }
}

/**
 * Runs provider work on RxJS lanes: a concurrency limit per lane (a lane's subject is handed a job only when a slot
 * is free; a job held by the fence budget lends its slot), a bounded wait queue that sheds the oldest health check
 * first (never a recovery or fence), and a timeout per job on the injected clock that aborts the work for real.
 */
export class WorkScheduler {
  // A lane's subject is handed a job only when a slot is free, so nothing is buffered in RxJS: its buffers drain with
  // `Array.shift()` (O(n) on a large queue) and recursively through jobs cancelled while buffered (a stack overflow
  // that silently kills the lane after ~800 of them).
  private readonly lanes: Readonly<Record<Lane, LaneState>>;
  private readonly subscriptions: Subscription[] = [];
  private waitingCount = 0;
  private closed = false;
  /** The jobs running now (held ones included). */
  private readonly runningJobs = new Set<Job>();
  /** Deadlines of ended jobs, ready for the next (as many as ever ran at once). */
  private readonly freeDeadlines: PausableDeadline<Job>[] = [];
  private readonly expire = (job: Job): void => {
    const error = new TimeoutError(job.op, job.timeoutMs);
    job.abort(error);
    this.finish(job, { kind: 'timeout', error });
  };
  /** Resolved when the last running job ends ({@link WorkScheduler.drain}). */
  private idle: (() => void)[] = [];
  /** Health checks dropped because the queue was full. */
  shed = 0;

  /** Builds the lanes. */
  constructor(private readonly options: WorkSchedulerOptions) {
    const lane = (name: Lane): LaneState => {
      const state: LaneState = {
        limit: options.limits[name],
        subject: new Subject<Job>(),
        queue: new FifoQueue(),
        running: 0,
      };
      // The pump enforces the lane's limit (so a held job can lend its slot); the lane only starts what the pump
      // hands it. Starting a job allocates no Observable: the job's own settle ends it.
      this.subscriptions.push(state.subject.subscribe((job) => this.start(job)));
      return state;
    };
    this.lanes = { health: lane('health'), activity: lane('activity'), recover: lane('recover'), fence: lane('fence') };
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
    return this.lanes[lane].running;
  }

  /**
   * Submits work to a lane; its timeout starts when it starts running. `onEnd`, when given, receives the outcome (and
   * the job's handle, so one function can serve many jobs)
   * exactly when a reaction to the handle's `outcome` promise would (without allocating that promise).
   */
  submit<T>(
    lane: Lane,
    op: string,
    timeoutMs: number,
    work: (control: JobControl) => Promise<T>,
    onEnd?: (outcome: JobOutcome<T>, job: JobHandle<T>) => void,
  ): JobHandle<T> {
    const ln = this.lanes[lane];
    const job = new Job(
      this,
      ln,
      op,
      timeoutMs,
      work,
      onEnd as ((o: JobOutcome<unknown>, j: JobHandle<unknown>) => void) | undefined,
    );
    const handle = job as unknown as JobHandle<T>;
    if (this.closed) {
      job.state = 'done';
      job.settle({ kind: 'cancelled', reason: 'scheduler closed' });
      return handle;
    }
    // A free slot and nobody waiting: it starts now, without a place in the queue.
    if (ln.queue.size === 0 && ln.running < ln.limit) {
      ln.subject.next(job);
      if (job.state !== 'queued') return handle;
    }
    this.makeRoom(job);
    if (job.state === 'queued') {
      job.entry = ln.queue.push(job);
      this.waitingCount++;
      this.pump(ln);
    }
    return handle;
  }

  /**
   * Refuses new work (a later `submit` is cancelled at once), cancels every waiting job and
   * resolves when every running job — held ones included — has ended. Running work is not
   * aborted: {@link WorkScheduler.close} does that.
   */
  async drain(): Promise<void> {
    this.closed = true;
    this.cancelWaiting();
    while (this.runningJobs.size > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /** Jobs running now, all lanes (held ones included). */
  get inFlight(): number {
    return this.runningJobs.size;
  }

  /** Cancels everything and stops the lanes. */
  close(): void {
    this.closed = true;
    this.cancelWaiting();
    for (const s of this.subscriptions) s.unsubscribe();
    // Stopping the lanes aborts the work still running.
    for (const job of [...this.runningJobs]) this.cancelJob(job, 'scheduler closed');
  }

  /** {@link JobControl.hold} of `job`. */
  async holdJob<T>(job: Job, promise: Promise<T>): Promise<T> {
    // While held (a stop command waiting for the fence budget) the job neither uses its timeout nor its lane slot:
    // other work of the lane, e.g. proof that needs no command, must not starve behind it
    // (docs/behaviour.md#scheduling-and-guards).
    job.deadline?.pause();
    if (job.holds++ === 0) this.lendSlot(job);
    try {
      return await promise;
    } finally {
      job.deadline?.resume();
      if (--job.holds === 0 && job.state === 'running') job.lane.running++;
    }
  }

  /** {@link JobHandle.cancel} of `job`. */
  cancelJob(job: Job, reason: string): void {
    if (job.state === 'done') return;
    if (job.state === 'queued') {
      this.unqueue(job);
      job.state = 'done';
      job.settle({ kind: 'cancelled', reason });
      return;
    }
    job.abort(new AbortedError(reason));
    this.finish(job, { kind: 'cancelled', reason });
  }

  private cancelWaiting(): void {
    for (const ln of Object.values(this.lanes))
      for (const job of ln.queue.values()) this.cancelJob(job, 'scheduler closed');
  }

  private makeRoom(incoming: Job): void {
    if (this.waitingCount < this.options.maxQueued) return;
    const victim = this.lanes.health.queue.peek();
    if (victim) {
      this.shed++;
      this.cancelJob(victim, 'shed: queue full');
    } else if (incoming.lane === this.lanes.health) {
      this.shed++;
      incoming.state = 'done';
      incoming.settle({ kind: 'cancelled', reason: 'shed: queue full' });
    }
    // A recovery or fence is never shed: it joins the queue above the bound.
  }

  private unqueue(job: Job): void {
    if (job.entry && job.lane.queue.remove(job.entry)) this.waitingCount--;
    job.entry = undefined;
  }

  private lendSlot(job: Job): void {
    job.lane.running--;
    this.pump(job.lane);
  }

  /** Hands the oldest waiting jobs of `ln` to its subject while it has free slots. */
  private pump(ln: LaneState): void {
    const queue = ln.queue;
    while (!this.closed && queue.size > 0 && ln.running < ln.limit) {
      const job = queue.peek()!;
      ln.subject.next(job); // a slot is free: it starts now and leaves the queue
      if (job.state === 'queued') break; // defensive: never spin if it did not start
    }
  }

  private start(job: Job): void {
    if (job.state !== 'queued') return;
    this.unqueue(job);
    job.state = 'running';
    job.lane.running++;
    this.runningJobs.add(job);
    const deadline = this.freeDeadlines.pop() ?? new PausableDeadline<Job>(this.options.clock, this.expire);
    job.deadline = deadline;
    deadline.start(job.timeoutMs, job);
    let pending: Promise<unknown>;
    try {
      pending = job.work(job);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => this.finish(job, { kind: 'ok', value }),
      (error: unknown) =>
        this.finish(job, job.abortReason ? { kind: 'cancelled', reason: String(error) } : { kind: 'error', error }),
    );
  }

  private finish(job: Job, outcome: JobOutcome<unknown>): void {
    if (job.state === 'done') return;
    job.state = 'done';
    this.runningJobs.delete(job);
    if (this.runningJobs.size === 0 && this.idle.length > 0) {
      const waiters = this.idle;
      this.idle = [];
      for (const resolve of waiters) resolve();
    }
    const deadline = job.deadline;
    if (deadline) {
      // Back to the pool: the job no longer reaches it (a hold that ends later resumes nothing).
      job.deadline = undefined;
      deadline.cancel();
      this.freeDeadlines.push(deadline);
    }
    if (job.holds === 0) job.lane.running--;
    job.settle(outcome);
    this.pump(job.lane);
  }
}
