import type { ActivityResult, FenceResult, LeaseStatus, ProviderContext, RecoverResult } from '../spi/ha-provider.js';
import type { ResourceState } from '../spi/states.js';
import type { ChassisCommand } from '../spi/power-driver.js';
import type { JobControl, JobOutcome, Lane } from '../scheduler/work-scheduler.js';
import { AbortedError } from '../errors/engine-errors.js';
import { delay, withClockSignal } from '../util/delay.js';
import type { EngineDeps } from './engine-deps.js';
import type { CheckResult } from './engine-observer.js';
import { createPowerControl } from './power-control.js';
import { finishOwnRecovery, type ResumedRecoverResult } from '../power/power-recipe.js';
import { activityStep } from './decide.js';
import { errorText, fenceStep, gateUntil, leaseStep, leftOffStep, recoverStart, recoverStep } from './outcomes.js';
import { powerHostOf } from './power-backend.js';
import type { InFlight, ResourceSteps, Runtime } from './runtime.js';
import type { Episode } from '../spi/state-store.js';

/** The signal of a context's source: the signal itself, or the job's (its AbortController made only now). */
function signalOfSource(source: AbortSignal | JobControl): AbortSignal {
  return source instanceof AbortSignal ? source : source.signal;
}

/**
 * Activity checks, recoveries and fences: single flight per resource, gated by startup
 * grace and self-doubt, results applied only if the resource is still where the action
 * started (stale results are discarded, docs/behaviour.md#resource-states).
 */
export class ResourceActions {
  private seq = 0;
  /**
   * Aborted by {@link ResourceActions.close}: the power reads made outside a job (how a recovery left the host, an
   * interrupted stop's reconcile), which no scheduler shutdown reaches.
   */
  private readonly life = new AbortController();

  /** Binds the actions to the engine's steps. */
  constructor(
    private readonly d: EngineDeps,
    private readonly steps: ResourceSteps,
  ) {}

  /**
   * Shutdown, once running jobs were aborted: power reads made outside a job are aborted too. Nothing is taken from
   * them: the resource keeps its state and any stop's intent, which the next start reads again.
   */
  close(): void {
    this.life.abort(new AbortedError('service stopping'));
  }

  /** Aborted once the service stops: work outside a job (lease reads, status reads) passes it on. */
  get stopping(): AbortSignal {
    return this.life.signal;
  }

  /**
   * Provider context for `rt`, with power control bound to the action when given. Given a job's control instead of
   * a signal (a health check), the context reads the job's signal only when the provider does: a quick check that
   * never looks at it costs no AbortController.
   */
  context(rt: Runtime, source: AbortSignal | JobControl, control?: JobControl, action?: InFlight): ProviderContext {
    const bmc = powerHostOf(rt.spec);
    const power =
      control && action && bmc !== undefined && this.d.power?.has(bmc)
        ? createPowerControl({
            host: bmc,
            resource: rt.key,
            partition: rt.spec.partition,
            episode: rt.record.episode?.id,
            backend: this.d.power,
            budget: this.d.budget,
            store: this.d.store,
            job: control,
            timeoutMs: rt.settings.powerOpTimeout,
            clock: this.d.clock,
            limits: {
              perPartition: rt.settings.maxFencesPerWindow,
              global: this.d.config.globalMaxFencesPerWindow,
              windowMs: rt.settings.fenceWindow,
            },
            onOffRead: (seq) => this.offRead(rt, action, seq),
            beforeStop:
              action.kind === 'recover' ? () => this.recheckHealth(rt, action, signalOfSource(source)) : undefined,
            expectOwn: (to) => this.d.expectOwnPower(bmc, to, this.d.clock.now() + rt.settings.quietPeriod),
            stopSending: () => this.stopSending(rt, action),
            stopDispatched: (seq) => {
              action.stopSeq = seq;
            },
            onSending: () => {
              action.onSent = true;
            },
            onPoweredOn: () => this.poweredOn(rt, action),
            mayStop: () => this.mayStop(rt, action),
            ...(this.d.mayAct ? { mayCommand: () => this.d.mayAct?.(rt.spec.partition) } : {}),
            mayPowerOn: () =>
              !rt.record.episode || rt.record.episode.released
                ? undefined
                : 'the release of the verified OFF has not committed',
            observeOnly: () => this.d.observeOnly(rt.spec.partition),
            observedBudget: this.d.observedBudget,
            observing: () => {
              action.observing = true;
            },
            wouldSend: (command) => this.wouldSend(rt, action, bmc, command),
          })
        : undefined;
    return {
      get signal() {
        return signalOfSource(source);
      },
      clock: this.d.clock,
      logger: this.d.logger,
      inventory: this.d.inventory,
      power,
      state: rt.record.state,
      settings: rt.settings,
      sleep: (ms) => delay(this.d.clock, ms, signalOfSource(source)),
      alert: (rt.alertFn ??= this.alertOf(rt)),
      observeOnly: this.d.observeOnly(rt.spec.partition),
      operatorMaintenance: rt.record.operatorMaintenance !== undefined,
    };
  }

  /**
   * The context's `alert` for `rt`, made once per resource. Made here, not in {@link context}: a closure made there
   * would keep that call's whole scope alive (its job, the job's answer) for as long as the resource lives.
   */
  private alertOf(rt: Runtime): ProviderContext['alert'] {
    return (level, code, message, resource) => this.d.alert(level, code, message, resource ?? rt.spec.ref.id);
  }

  /**
   * Observe-only (docs/observe-only.md): `command` passed every gate and would be sent now. One `would.power.action`
   * event says so, and the episode remembers that its decisions rest on a command never sent.
   */
  private wouldSend(rt: Runtime, action: InFlight, bmc: string, command: ChassisCommand): Promise<void> {
    const { id, type } = rt.spec.ref;
    this.d.logger.info('observe-only: power command not sent', { resource: rt.key, host: bmc, action: command });
    this.d.emit({
      t: this.d.clock.now(),
      type: 'would.power.action',
      host: bmc,
      resource: id,
      resourceType: type,
      action: command,
      by: 'ha',
    });
    return this.steps.serial(rt, async () => {
      if (!rt.record.episode || rt.record.episode.observed || rt.action?.id !== action.id) return;
      await this.steps.apply(rt, null, `would-be ${command} (observe-only): not sent`, {
        counters: (e) => ({ ...e, observed: true }),
        actionId: action.id,
      });
    });
  }

  /**
   * The resource's scope may have stopped being observe-only (docs/observe-only.md#switching-to-acting). A recovery
   * or fence whose command was decided while observing never fires on that decision: its held action is dropped and
   * the failure is verified anew from SUSPECT (activity checks, then the usual recovery with its health re-check).
   */
  async observeSwitched(rt: Runtime): Promise<void> {
    if (this.d.observeOnly(rt.spec.partition)) return;
    await this.reverifyObserved(rt);
  }

  /** True when the resource was sent back to SUSPECT because its episode's command was only observed. */
  private async reverifyObserved(rt: Runtime): Promise<boolean> {
    const state = rt.record.state;
    if (state !== 'RECOVERING' && state !== 'FENCING') return false;
    if (!rt.action?.observing && !rt.record.episode?.observed) return false;
    this.cancel(rt, 'observe-only ended');
    return this.steps.apply(
      rt,
      'observe-ended',
      `observe-only ended; its ${state === 'FENCING' ? 'fence' : 'recovery'} was decided while observing and never sent: the failure is verified again before any command`,
      {
        counters: (e) => ({
          ...e,
          observed: false,
          checks: 0,
          activeResults: 0,
          inactiveStreak: 0,
          errorStreak: 0,
          recoverAttempts: 0,
        }),
      },
    );
  }

  /** After a (re)start: reconcile a persisted stop intent, then restart the state's work. */
  async resume(rt: Runtime, hasIntent?: boolean): Promise<void> {
    if (rt.record.state === 'RECOVERING' && rt.record.episode?.ownOff) {
      // Our recovery was cut between its stop and a confirmed power-on (a restart, a
      // takeover): it is finished, not judged as left OFF — its intent stays until the on.
      this.resumeOwnRecovery(rt);
      return;
    }
    // The caller usually knows from one read for all its resources; alone, ask the store.
    const pending = hasIntent ?? (await this.d.store.listIntents()).some((i) => i.resource === rt.key);
    if (pending) {
      // The status read runs as the next step: it must not hold up the caller (addResource),
      // nor every resource added after this one.
      void this.steps.serial(rt, async () => {
        if (await this.reconcile(rt, 'resumed after restart')) await this.releaseLeftOff(rt);
        if (!this.life.signal.aborted) this.restartWork(rt);
      });
      return;
    }
    this.restartWork(rt);
  }

  private restartWork(rt: Runtime): void {
    this.steps.armStateTimer(rt);
    this.startWork(rt, rt.record.state);
  }

  /**
   * Finishes a recovery of ours resumed after a restart or takeover: a status read of OFF
   * is our own stop's (persisted `ownOff`), so it is the proof — workloads released once
   * per episode — and the host is powered on, once. ON after our verified OFF (the episode
   * released) means our power-on landed before the cut: the recovery succeeded. Any other
   * read means the stop did not take: the attempt is over and RECOVERING goes on as usual.
   */
  private resumeOwnRecovery(rt: Runtime): void {
    this.launch(
      rt,
      'recover',
      'recover (resumed)',
      rt.settings.recoverTimeout,
      (ctx) => finishOwnRecovery(ctx),
      (action, outcome) => this.onResumedRecover(rt, action, outcome),
      { resumed: true },
    );
  }

  private async onResumedRecover(
    rt: Runtime,
    action: InFlight,
    outcome: JobOutcome<ResumedRecoverResult>,
  ): Promise<void> {
    if (outcome.kind !== 'ok' || outcome.value.ok || action.onSent) {
      await this.onRecover(rt, action, outcome);
      return;
    }
    const ownOff = (e: Episode): Episode => ({ ...e, ownOff: false });
    if (outcome.value.read === 'ON' && rt.record.episode?.released) {
      await this.steps.apply(
        rt,
        'recover-succeeded',
        'resumed: power read ON after our verified OFF: our power-on landed',
        {
          quiet: true,
          counters: ownOff,
        },
      );
      return;
    }
    const applied = await this.steps.apply(rt, null, `resumed recovery: ${outcome.value.reason}`, { counters: ownOff });
    if (applied) this.startWork(rt, 'RECOVERING');
  }

  /** Starts the work that belongs to the state just entered. */
  startWork(rt: Runtime, to: ResourceState): void {
    // The state's work runs as the next serial step, after the write that entered it.
    void this.steps.serial(rt, async () => {
      if (rt.record.state !== to) return;
      switch (to) {
        case 'CHECKING':
          if (!rt.action) this.startActivity(rt);
          break;
        case 'RECOVERING':
          await this.startRecover(rt);
          break;
        case 'FENCING':
          await this.startFence(rt);
          break;
        case 'DEGRADED':
          if (rt.record.episode && !rt.record.episode.degradedAlerted) {
            this.d.alert(
              'warning',
              'degraded',
              `${rt.spec.ref.id} is alive but not controllable (DEGRADED)`,
              rt.spec.ref.id,
            );
            await this.steps.apply(rt, null, 'degraded alert raised', {
              counters: (e) => ({ ...e, degradedAlerted: true }),
            });
          }
          break;
        case 'FAILED':
          if (rt.provider.selfFenceLease && rt.record.timers.leaseAt === undefined) {
            await this.steps.apply(rt, null, 'watch the lease', {
              timers: { leaseAt: this.d.clock.now() + rt.settings.degradedRecheck },
            });
          }
          break;
        default:
          break;
      }
    });
  }

  /** Why no stop command may be sent to `rt` now, or undefined (checked before and after the budget). */
  private mayStop(rt: Runtime, action: InFlight): string | undefined {
    if (this.d.selfDoubting()) return 'self-doubt: this management server stopped acting';
    if (rt.action?.id !== action.id) return 'the action was cancelled';
    // docs/behaviour.md#kvm-hosts: never a stop command to a host read OFF in this episode.
    if (rt.record.episode?.offRead) return 'the host was read OFF in this episode';
    return undefined;
  }

  /**
   * A stop command of ours is about to be sent: from now until our power-on is confirmed
   * an OFF may be ours (persisted, so a timeout or a restart never reads it as a stranger's).
   */
  private stopSending(rt: Runtime, action: InFlight): Promise<void> {
    return this.steps.serial(rt, async () => {
      if (!rt.record.episode || rt.record.episode.ownOff) return;
      await this.steps.apply(rt, null, 'stop command sent', {
        counters: (e) => ({ ...e, ownOff: true }),
        actionId: action.id,
      });
    });
  }

  /** Our own power-on was acknowledged: an OFF read from now on is not ours. */
  private poweredOn(rt: Runtime, action: InFlight): Promise<void> {
    action.onAcked = true;
    return this.steps.serial(rt, async () => {
      if (!rt.record.episode?.ownOff) return;
      await this.steps.apply(rt, null, 'own power-on acknowledged', {
        counters: (e) => ({ ...e, ownOff: false }),
        actionId: action.id,
      });
    });
  }

  /** A state timer fired in RECOVERING, FENCING or FAILED. */
  async onTimer(rt: Runtime): Promise<void> {
    const state = rt.record.state;
    if (state === 'RECOVERING' && !rt.action) await this.startRecover(rt);
    else if (state === 'FENCING' && !rt.action && rt.record.timers.leaseAt === undefined) await this.startFence(rt);
    else if (
      (state === 'FENCING' || state === 'FAILED') &&
      !rt.action &&
      (rt.record.timers.leaseAt ?? Infinity) <= this.d.clock.now()
    ) {
      await this.leaseRoute(rt, 'lease re-check', true);
    }
  }

  /** Cancels the in-flight action; an interrupted stop command is reconciled by a status read. */
  cancel(rt: Runtime, reason: string): void {
    const action = rt.action;
    if (!action) return;
    rt.action = undefined;
    action.job?.cancel(reason);
    if (action.kind === 'activity') return;
    // A stop that never left the queue was refused there: nothing to reconcile.
    const settle = action.stopSeq === undefined ? this.d.store.clearIntent(rt.key) : this.reconcileLater(rt, reason);
    settle.catch((err: unknown) =>
      this.d.logger.error('interrupted stop not reconciled', { resource: rt.key, error: String(err) }),
    );
  }

  /**
   * The partition's lease is gone (docs/behaviour.md#several-servers): the action is aborted at once and nothing is
   * written — its intent stays for the next owner, who reconciles it by a status read.
   */
  abandon(rt: Runtime, reason: string): void {
    const action = rt.action;
    rt.action = undefined;
    action?.job?.cancel(reason);
  }

  private startActivity(rt: Runtime): void {
    this.launch(
      rt,
      'activity',
      'activity check',
      rt.settings.activityCheckTimeout,
      (ctx) => rt.provider.activityCheck(rt.spec, ctx),
      (_action, outcome) => this.onActivity(rt, outcome),
    );
  }

  private async onActivity(rt: Runtime, outcome: JobOutcome<ActivityResult>): Promise<void> {
    const result: ActivityResult =
      outcome.kind === 'ok'
        ? outcome.value
        : {
            verdict: 'error',
            reason:
              outcome.kind === 'timeout' ? 'activity check timed out' : `activity check failed: ${errorText(outcome)}`,
          };
    const step = activityStep(rt.spec.ref.id, rt.record.episode, result, rt.settings);
    if (step.alert) this.d.alert(step.alert.level, step.alert.code, step.alert.message, rt.spec.ref.id);
    await this.steps.apply(rt, step.event, step.reason, { counters: step.counters });
  }

  private async startRecover(rt: Runtime): Promise<void> {
    if (rt.action || rt.record.state !== 'RECOVERING') return;
    if (!this.d.observeOnly(rt.spec.partition) && (await this.reverifyObserved(rt))) return;
    const start = recoverStart(rt.record, rt.settings, this.d.clock.now());
    if (start.kind === 'exhausted') {
      await this.steps.apply(rt, 'recover-exhausted', start.reason);
      return;
    }
    // Never read our own OFF as a stranger's (docs/behaviour.md#kvm-hosts): finish there first.
    if (start.kind === 'left-off-first' && (await this.finishLeftOff(rt, start.why, false, true))) return;
    if (start.kind === 'wait') return; // the state timer starts it
    if (this.gated(rt)) return;
    // A recovery is a new start: the "no activity" and error streaks of before it do not carry over.
    await this.steps.apply(rt, null, 'recovery attempt started', {
      counters: (e) => ({ ...e, recoverAttempts: e.recoverAttempts + 1, inactiveStreak: 0, errorStreak: 0 }),
      timers: { retryAt: undefined },
    });
    this.launch(
      rt,
      'recover',
      'recover',
      rt.settings.recoverTimeout,
      (ctx) => rt.provider.recover(rt.spec, ctx),
      (action, outcome) => this.onRecover(rt, action, outcome),
    );
  }

  private async onRecover(rt: Runtime, action: InFlight, outcome: JobOutcome<RecoverResult>): Promise<void> {
    const step = recoverStep(outcome, action, rt.record.episode, rt.settings, this.d.clock.now());
    if (step.kind === 'finish-left-off') {
      await this.finishLeftOff(rt, step.why, step.onSent);
      return;
    }
    const { event, reason, quiet, timers } = step;
    await this.steps.apply(rt, event, reason, { ...(quiet ? { quiet } : {}), ...(timers ? { timers } : {}) });
  }

  private async startFence(rt: Runtime): Promise<void> {
    if (rt.action || rt.record.state !== 'FENCING') return;
    if (!this.d.observeOnly(rt.spec.partition) && (await this.reverifyObserved(rt))) return;
    if (this.gated(rt)) return;
    this.launch(
      rt,
      'fence',
      'fence',
      rt.settings.fenceTimeout,
      (ctx) => rt.provider.fence(rt.spec, ctx),
      (action, outcome) => this.onFence(rt, action, outcome),
    );
  }

  private async onFence(rt: Runtime, action: InFlight, outcome: JobOutcome<FenceResult>): Promise<void> {
    const step = fenceStep(outcome, action.offSeen);
    if (step.kind === 'fenced') await this.steps.apply(rt, 'fence-verified-off', step.reason, { release: 'power-off' });
    else await this.leaseRoute(rt, step.why);
  }

  /** Fencing by power failed: the self-fence lease is the remaining proof (docs/behaviour.md#kvm-hosts). */
  private async leaseRoute(rt: Runtime, why: string, recheck = false): Promise<void> {
    const state = rt.record.state;
    const lease = await this.readLease(rt);
    if (this.life.signal.aborted || rt.record.state !== state || rt.action) return; // stopping: no answer
    const step = leaseStep(state, lease, why, recheck, rt.settings, this.d.clock.now());
    const { event, reason, timers, release } = step;
    await this.steps.apply(rt, event, reason, release ? { release, timers } : { timers });
  }

  private async readLease(rt: Runtime): Promise<LeaseStatus> {
    if (!rt.provider.selfFenceLease) return { state: 'none', reason: 'provider has no self-fence lease' };
    // Not on the fence lane: fences held by an exhausted budget must not starve proof
    // that needs no command (docs/behaviour.md#scheduling-and-guards).
    // A lease check reads the heartbeat and asks the peers, like an activity check: it gets that bound.
    return withClockSignal(
      this.d.clock,
      rt.settings.activityCheckTimeout,
      'lease check',
      (signal) => rt.provider.selfFenceLease!(rt.spec, this.context(rt, signal)),
      { parent: this.life.signal, race: true },
    ).catch((err: unknown) => ({
      state: 'none' as const,
      reason: `lease unreadable (${String((err as Error)?.message ?? err)})`,
    }));
  }

  /** Startup grace and self-doubt hold recoveries and fences (docs/behaviour.md#scheduling-and-guards). */
  private gated(rt: Runtime): boolean {
    const graceEnd = (this.d.actingSince?.(rt.spec.partition) ?? this.d.startedAt) + this.d.config.startupGrace;
    const until = gateUntil(this.d.clock.now(), { graceEnd, selfDoubting: this.d.selfDoubting() }, rt.settings);
    rt.gateUntil = until;
    if (until === undefined) return false;
    this.steps.armStateTimer(rt);
    return true;
  }

  private launch<T>(
    rt: Runtime,
    kind: InFlight['kind'],
    op: string,
    timeoutMs: number,
    work: (ctx: ProviderContext) => Promise<T>,
    done: (action: InFlight, outcome: JobOutcome<T>) => Promise<void>,
    extra: Pick<InFlight, 'resumed'> = {},
  ): void {
    const action: InFlight = {
      id: ++this.seq,
      kind,
      state: rt.record.state,
      version: rt.record.version,
      offSeen: false,
      onSent: false,
      ...extra,
    };
    rt.action = action;
    const lane: Lane = kind;
    let began = 0;
    const job = this.d.scheduler.submit(lane, op, timeoutMs, (control) => {
      began = this.d.clock.now();
      return work(this.context(rt, control.signal, control, action));
    });
    action.job = job as InFlight['job'];
    void job.outcome.then((outcome) => {
      if (kind === 'activity' && outcome.kind !== 'cancelled') {
        this.d.checkEnded('activity', activityResultOf(outcome as never), this.d.clock.now() - began);
      }
      return this.steps.serial(rt, async () => {
        if (rt.action?.id !== action.id) return; // cancelled: the late result is discarded
        rt.action = undefined;
        if (outcome.kind === 'cancelled') return;
        if (action.kind !== 'activity') await this.d.store.clearIntent(rt.key);
        if (!this.current(rt, action)) {
          // Stale (docs/behaviour.md#resource-states): drop the result; if the resource is still where the action
          // started, its work starts again from the current record.
          if (rt.record.state === action.state) this.startWork(rt, action.state);
          return;
        }
        await done(action, outcome);
      });
    });
  }

  private current(rt: Runtime, action: InFlight): boolean {
    return (
      rt.record.state === action.state &&
      rt.record.version === action.version &&
      (rt.action === undefined || rt.action.id === action.id)
    );
  }

  private offRead(rt: Runtime, action: InFlight, seq: number | undefined): Promise<void> {
    return this.steps.serial(rt, async () => {
      if (!this.current(rt, action)) return;
      action.offSeen = true;
      if (action.kind !== 'recover') return; // a fence releases with its FENCED transition
      if (action.resumed || (action.stopSeq !== undefined && (seq === undefined || seq > action.stopSeq))) {
        // A recovery's verified OFF is the moment workloads are released (docs/behaviour.md#kvm-hosts).
        await this.steps.apply(rt, null, 'power verified OFF during recovery', {
          release: 'power-off',
          actionId: action.id,
          counters: (e) => ({ ...e, ownOff: true }),
        });
      } else if (!rt.record.episode?.ownOff) {
        // Read OFF before any stop of ours: switched off from outside. Proof that needs no
        // command is taken at once; the framework never powers such a host on (docs/behaviour.md#kvm-hosts).
        await this.powerOffObserved(
          rt,
          "power read OFF before the recovery's stop command (switched off outside the framework)",
        );
      }
    });
  }

  /**
   * Proof that needs no command (docs/behaviour.md#kvm-hosts): the host was read OFF from outside. Its
   * workloads are released at once, any queued or held action is dropped, and in a
   * failure episode it goes to FENCED — no stop command and no power-on follow.
   */
  async powerOffObserved(rt: Runtime, reason: string): Promise<void> {
    const host = rt.spec.ref.id;
    if (rt.record.episode) {
      this.d.alert(
        'warning',
        'powered-off-outside',
        `${host} was switched off outside the framework during a failure episode`,
        host,
      );
    }
    this.cancel(rt, 'power read OFF from outside');
    await this.steps.apply(rt, 'power-off-observed', reason, {
      release: 'power-off',
      counters: (e) => ({ ...e, offRead: true, ownOff: false }),
    });
  }

  /**
   * A recovery that ended (timed out or failed) after its own stop command was sent,
   * before its power-on was confirmed: one status read says how it was left (docs/behaviour.md#kvm-hosts,
   * never our own OFF read as a stranger's). OFF is "left OFF": an alert, the release
   * (that read is proof) and FENCED. ON with our power-on sent means the power-on landed;
   * ON without it means our stop did not take: an ordinary failed attempt. Unreadable
   * goes to FENCING, whose proof is a read of OFF or the self-fence lease.
   */
  private async finishLeftOff(rt: Runtime, why: string, onSent: boolean, beforeAttempt = false): Promise<boolean> {
    const host = rt.spec.ref.id;
    const bmc = powerHostOf(rt.spec);
    const state =
      bmc !== undefined && this.d.power?.has(bmc)
        ? await this.d.power
            .status(bmc, { by: 'ha', timeoutMs: rt.settings.powerOpTimeout, signal: this.life.signal })
            .catch(() => 'UNKNOWN' as const)
        : ('UNKNOWN' as const);
    // Stopping aborted the read: that is no answer, and RECOVERING is resumed by the next start.
    if (this.life.signal.aborted || rt.record.state !== 'RECOVERING' || rt.action) return true;
    const attempts = rt.record.episode?.recoverAttempts ?? 0;
    const step = leftOffStep(state, why, { onSent, beforeAttempt, attempts }, rt.settings, this.d.clock.now());
    if (step.leftOff) this.d.alert('warning', 'left-off', `${host} was left OFF: ${why}`, host);
    const applied = await this.steps.apply(rt, step.event, step.reason, {
      ...(step.clearOwnOff ? { counters: (e: Episode): Episode => ({ ...e, ownOff: false }) } : {}),
      ...(step.quiet ? { quiet: true } : {}),
      ...(step.timers ? { timers: step.timers } : {}),
      ...(step.release ? { release: step.release } : {}),
    });
    // Before a new attempt, power read ON: the attempt goes ahead once the write landed.
    if (step.event === null) return !applied;
    return true;
  }

  /**
   * The controller became unreadable while a recovery or fence waits to send its stop
   * (queued or held by the fence budget): that stop cannot be delivered, and the proof
   * that remains — the self-fence lease — needs no command, so it is never held
   * (docs/behaviour.md#scheduling-and-guards).
   */
  async controllerLost(rt: Runtime): Promise<void> {
    const action = rt.action;
    if (!action || action.kind === 'activity' || action.stopSeq !== undefined) return;
    this.cancel(rt, 'controller unreachable before the stop command');
    if (rt.record.state === 'RECOVERING') {
      await this.steps.apply(rt, 'recover-exhausted', 'controller unreachable before the recovery could stop the host');
    } else if (rt.record.state === 'FENCING') {
      await this.leaseRoute(rt, 'controller unreachable before the fence could stop the host');
    }
  }

  /** docs/behaviour.md#resource-states: health is re-checked right before every stop command of a recovery. */
  private async recheckHealth(rt: Runtime, action: InFlight, signal: AbortSignal): Promise<void> {
    const health = await rt.provider.healthCheck(rt.spec, this.context(rt, signal));
    if (!health.healthy) return;
    await this.steps.serial(rt, async () => {
      rt.healthy = true;
      if (this.current(rt, action))
        await this.steps.apply(rt, 'health-passed', 'healthy again right before a stop command');
    });
    throw new AbortedError('healthy again: stop command not sent');
  }

  private async reconcileLater(rt: Runtime, reason: string): Promise<void> {
    await rt.chain;
    const intents = await this.d.store.listIntents();
    if (!intents.some((i) => i.resource === rt.key)) return;
    const off = await this.reconcile(rt, reason);
    if (off) await this.steps.serial(rt, () => this.releaseLeftOff(rt));
  }

  /** Status read after an interrupted stop command; true when the host was left OFF. */
  private async reconcile(rt: Runtime, reason: string): Promise<boolean> {
    const host = rt.spec.ref.id;
    const bmc = powerHostOf(rt.spec);
    if (bmc === undefined || !this.d.power?.has(bmc)) {
      await this.d.store.clearIntent(rt.key);
      return false;
    }
    try {
      const state = await this.d.power.status(bmc, {
        by: 'ha',
        timeoutMs: rt.settings.powerOpTimeout,
        signal: this.life.signal,
      });
      if (state === 'OFF')
        this.d.alert('warning', 'left-off', `${host} was left OFF by an interrupted stop command (${reason})`, host);
      await this.d.store.clearIntent(rt.key);
      return state === 'OFF';
    } catch (err) {
      if (this.life.signal.aborted) return false; // stopping: the intent stays for the next start
      this.d.alert(
        'warning',
        'reconcile-failed',
        `${host}: an interrupted stop command could not be reconciled (${String(err)})`,
        host,
      );
      return false;
    }
  }

  /**
   * Our own status read saw the host OFF: that is proof, so its workloads are released (docs/behaviour.md#kvm-hosts).
   */
  private async releaseLeftOff(rt: Runtime): Promise<void> {
    await this.steps.apply(rt, 'power-off-observed', 'power read OFF after an interrupted stop command', {
      release: 'power-off',
    });
  }
}

/** An activity check's outcome as a metrics result: activity seen is `ok`, none is `failed`. */
function activityResultOf(outcome: Exclude<JobOutcome<ActivityResult>, { kind: 'cancelled' }>): CheckResult {
  if (outcome.kind !== 'ok') return outcome.kind;
  const v = outcome.value.verdict;
  return v === 'active' ? 'ok' : v === 'inactive' ? 'failed' : 'error';
}
