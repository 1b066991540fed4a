import { resolveSettings } from '../config/load-config.js';
import type { HaSettings } from '../config/schema.js';
import type { ResourceEvent } from '../fsm/resource-fsm.js';
import { InvalidRequestError, NotFoundError, ProviderContractError } from '../errors/engine-errors.js';
import type { OperatorMaintenance } from '../spi/operator.js';
import type { HAProvider, HealthResult, Verdict } from '../spi/ha-provider.js';
import { resourceKey, type ResourceSpec } from '../spi/resource.js';
import type { ResourceRecord } from '../spi/state-store.js';
import type { ResourceState } from '../spi/states.js';
import { jittered, keyedRandom } from '../util/prng.js';
import { reusableTimer } from '../util/due-queue.js';
import { ResourceActions } from './resource-actions.js';
import type { EngineDeps } from './engine-deps.js';
import type { CheckResult } from './engine-observer.js';
import type { JobControl, JobHandle, JobOutcome } from '../scheduler/work-scheduler.js';
import { newRecord, type ApplyOptions, type ResourceSteps, type Runtime } from './runtime.js';
import { eligibilityEvent, healthEvent, maintenanceEvent } from './outcomes.js';
import { deadlineOf, decide, resumeEvent, timerEvent, type StepEffect, type StepEvent } from './decide.js';
import type { HaEvent } from '../events/ha-event.js';
import { powerHostOf, type PowerTransition } from './power-backend.js';
import { applyPowerRules } from './power-rules.js';
import { PartitionMembers, type MemberSummary } from './partition-members.js';

/** The summary of a partition without members. */
const NO_MEMBERS: MemberSummary = { views: [], eligible: 0, failing: 0, unknown: true };

/** How soon an overdue deadline that its handler left in place is looked at again. */
const OVERDUE_RETRY_MS = 1_000;
/** Distinct effective settings kept for sharing; past it the cache starts again (only sharing is lost). */
const MAX_SHARED_SETTINGS = 10_000;

interface HealthAnswer {
  readonly maintenance: boolean;
  readonly eligible: Verdict;
  readonly health: HealthResult;
  /** When the check started: an eligibility verdict older than the last transition is stale. */
  readonly startedAt?: number;
}

/**
 * Runs the resource FSM for every resource this service owns: health checks in every
 * state, timers, and compare-and-set writes; actions live in {@link ResourceActions}.
 */
export class ResourceEngine implements ResourceSteps {
  private readonly runtimes = new Map<string, Runtime>();
  private readonly members = new Map<string, PartitionMembers>();
  private readonly actions: ResourceActions;
  /** Effective settings by content, shared between resources (see {@link ResourceEngine.settingsOf}). */
  private readonly sharedSettings = new Map<string, HaSettings>();
  /** Settings of hosts without settings of their own, by partition lineage (see {@link ResourceEngine.settingsOf}). */
  private readonly lineageSettings = new Map<string, HaSettings>();
  /** Set by {@link ResourceEngine.clearTimers}: a power read ending later starts no check. */
  private timersCleared = false;

  /** Builds the engine over shared dependencies. */
  constructor(private readonly d: EngineDeps) {
    this.actions = new ResourceActions(d, this);
  }

  /**
   * Starts managing a resource, resuming `record` when one was persisted. A fresh record is written as the resource's
   * first serial step (every later step waits for it): resources attached together write together, which a store
   * may commit as one.
   */
  async attach(
    spec: ResourceSpec,
    provider: HAProvider,
    persisted?: ResourceRecord,
    hasIntent?: boolean,
  ): Promise<void> {
    const key = resourceKey(spec.ref);
    const now = this.d.clock.now();
    // Every field named here, the optional ones too: each runtime then keeps one shape for life (its fields in the
    // object, none added later), so the per-check code reads them from one map.
    const rt: Runtime = {
      spec,
      key,
      provider,
      record: persisted ?? newRecord(spec, key, now),
      settings: this.settingsOf(spec),
      healthy: undefined,
      eligible: undefined,
      maintenance: undefined,
      failing: false,
      healthTimer: undefined,
      healthDue: now,
      healthRound: 0,
      healthJob: undefined,
      checkDue: 0,
      checkFiredAt: 0,
      checkBegan: 0,
      healthWork: undefined,
      healthDone: undefined,
      alertFn: undefined,
      stateTimer: undefined,
      action: undefined,
      gateUntil: undefined,
      chain: Promise.resolve(),
      removed: false,
      stepping: false,
    };
    this.runtimes.set(key, rt);
    let members = this.members.get(spec.partition);
    if (!members) this.members.set(spec.partition, (members = new PartitionMembers()));
    members.add(rt);
    const first = Math.floor(
      keyedRandom(this.d.config.seed, spec.ref.id, 'health-start', 0) * rt.settings.healthCheckInterval,
    );
    this.scheduleHealth(rt, now + first);
    let unsaved: { error: unknown } | undefined;
    await this.serial(rt, async () => {
      try {
        // Another writer (several servers) may have created it first: its record wins.
        if (!persisted && !(await this.d.store.saveResource(rt.record, null)))
          rt.record = (await this.d.store.getResource(key)) ?? rt.record;
      } catch (error) {
        unsaved = { error };
        return;
      }
      // A fresh record has no stop intent; a persisted one has one when the caller says so (or the store, asked).
      await this.actions.resume(rt, persisted ? hasIntent : false);
      // Attached after its partition became ACTIVE (that activation did not see it): it starts as if it had been
      // there. When that activation did see it, its step comes after this one and finds it started already.
      if (rt.record.state === 'NONE' && this.d.partitionState?.(spec.partition) === 'ACTIVE')
        await this.startInActivePartition(rt, 'partition ACTIVE: resource added');
    });
    if (unsaved) {
      // Its first record was not written: the resource is not managed (the caller sees the store's error).
      rt.removed = true;
      this.dropTimers(rt);
      rt.healthJob?.cancel('resource not added');
      this.runtimes.delete(key);
      members.delete(rt);
      throw unsaved.error;
    }
  }

  /** Stops managing resource `key`: cancels its timers and action, deletes its record. */
  async detach(key: string): Promise<void> {
    const rt = this.runtimes.get(key);
    if (!rt) return;
    rt.removed = true;
    this.dropTimers(rt);
    rt.healthJob?.cancel('resource removed');
    this.actions.cancel(rt, 'resource removed');
    this.setFailing(rt, false);
    this.runtimes.delete(rt.key);
    this.members.get(rt.spec.partition)?.delete(rt);
    await rt.chain;
    await this.d.store.deleteResource(rt.key);
    this.d.membershipChanged(rt.spec.partition);
  }

  /**
   * Several servers: the partition's lease is gone (docs/behaviour.md#several-servers). Every member stops at once —
   * timers dropped, checks and actions aborted — and is forgotten here WITHOUT touching its record: the next owner
   * loads it. Returns the keys dropped.
   */
  abandon(partition: string, reason: string): string[] {
    const dropped: string[] = [];
    for (const rt of [...(this.members.get(partition)?.runtimes() ?? [])]) {
      rt.removed = true;
      this.dropTimers(rt);
      rt.healthJob?.cancel(reason);
      this.actions.abandon(rt, reason);
      this.setFailing(rt, false);
      this.runtimes.delete(rt.key);
      dropped.push(rt.key);
    }
    this.members.delete(partition);
    return dropped;
  }

  /** Replaces resource `key`'s spec (attributes, power binding); settings are re-resolved. */
  update(key: string, spec: ResourceSpec): void {
    const rt = this.runtimes.get(key);
    if (!rt) return;
    rt.spec = spec;
    rt.settings = this.settingsOf(spec);
    this.touch(rt);
  }

  /** What the engine knows of resource `key`, or undefined when it does not manage it. */
  view(key: string): ResourceView | undefined {
    const rt = this.runtimes.get(key);
    return rt && viewOf(rt);
  }

  /** The HA state of resource `key`, or undefined when the engine does not manage it (no view built). */
  stateOf(key: string): ResourceState | undefined {
    return this.runtimes.get(key)?.record.state;
  }

  /** Every managed resource's view. */
  views(): ResourceView[] {
    return [...this.runtimes.values()].map(viewOf);
  }

  /** How many resources the engine manages. */
  get size(): number {
    return this.runtimes.size;
  }

  /** Member `rt` may have changed: its partition's next reassessment looks at it again. */
  private touch(rt: Runtime): void {
    this.members.get(rt.spec.partition)?.touch(rt);
  }

  /** What the partition engine weighs of a partition's members (docs/behaviour.md#partitions). */
  memberSummary(partition: string): MemberSummary {
    return this.members.get(partition)?.summary() ?? NO_MEMBERS;
  }

  /** Partitions that have (or had) member resources. */
  partitionsWithMembers(): string[] {
    return [...this.members.keys()];
  }

  /** A power transition of resource `key`'s controller (docs/behaviour.md#kvm-hosts). */
  powerTransition(key: string, t: PowerTransition): void {
    const rt = this.runtimes.get(key);
    if (rt) void this.serial(rt, () => applyPowerRules(this.d, this, this.actions, rt, t));
  }

  /** Shutdown, first step: no timer of any resource fires any more. */
  clearTimers(): void {
    this.timersCleared = true;
    for (const rt of this.runtimes.values()) this.dropTimers(rt);
  }

  /** Neither of `rt`'s timers (health, state deadline) fires any more. */
  private dropTimers(rt: Runtime): void {
    rt.healthTimer?.cancel();
    this.d.clock.clearTimeout(rt.stateTimer);
  }

  /**
   * Shutdown, once the scheduler is closed: the power reads resources made outside a job end now, so no serial step
   * waits on a controller that does not answer (their resources keep state and intent for the next start).
   */
  closeActions(): void {
    this.actions.close();
  }

  /** Shutdown, last step: waits for every serial step in hand, then retires every resource. */
  async retire(): Promise<void> {
    await Promise.all([...this.runtimes.values()].map((rt) => rt.chain));
    this.clearTimers();
    for (const rt of this.runtimes.values()) rt.removed = true;
  }

  /** Effective settings of a resource from its partition lineage (docs/behaviour.md#configuration). */
  settingsOf(spec: ResourceSpec): HaSettings {
    const scope: Record<string, string> = { host: spec.ref.id };
    let lineage = '';
    for (const p of this.d.inventory.lineage(spec.partition)) {
      scope[p.kind] = p.id;
      lineage += `${p.kind}\u0000${p.id}\u0000`;
    }
    // A host without settings of its own has its lineage's: resolved once per lineage, not once per host (the config
    // never changes under a service; a partition moved elsewhere has another lineage, so another key).
    const byLineage = !Object.hasOwn(this.d.config.hosts, spec.ref.id);
    if (byLineage) {
      const known = this.lineageSettings.get(lineage);
      if (known) return known;
    }
    const settings = this.shared(resolveSettings(this.d.config, scope));
    if (byLineage) {
      if (this.lineageSettings.size >= MAX_SHARED_SETTINGS) this.lineageSettings.clear();
      this.lineageSettings.set(lineage, settings);
    }
    return settings;
  }

  /** `settings`, or an equal object already handed out. */
  private shared(settings: HaSettings): HaSettings {
    // Resources with equal effective settings share one object (~40 fields each: per-resource memory at scale).
    const key = JSON.stringify(settings);
    const shared = this.sharedSettings.get(key);
    if (shared) return shared;
    if (this.sharedSettings.size >= MAX_SHARED_SETTINGS) this.sharedSettings.clear();
    this.sharedSettings.set(key, settings);
    return settings;
  }

  /** Runs `fn` after every earlier change to this resource (one writer at a time). */
  serial(rt: Runtime, fn: () => Promise<void> | void): Promise<void> {
    const run = rt.chain.then(async () => {
      if (rt.removed) return;
      rt.stepping = true;
      try {
        await fn();
      } finally {
        rt.stepping = false;
        this.touch(rt); // whatever the step changed, the partition's next pass sees it
        this.keepDeadline(rt);
      }
    });
    rt.chain = run.catch((err: unknown) => {
      // Even a throwing logger must not leave the chain rejected: every later step would leak.
      try {
        this.d.logger.error('resource update failed', { resource: rt.key, error: String(err) });
      } catch {
        // nothing left to tell
      }
    });
    return rt.chain;
  }

  /**
   * One FSM step as a compare-and-set write. Returns false when the event is ignored
   * or another writer got there first (the record is then reloaded).
   */
  async apply(rt: Runtime, event: ResourceEvent | null, reason: string, o: ApplyOptions = {}): Promise<boolean> {
    const action = rt.action ? { id: rt.action.id, state: rt.action.state } : undefined;
    const decision = decide(
      rt.record,
      { ...o, event, reason },
      { now: this.d.clock.now(), settings: rt.settings, action },
    );
    if (!decision) return false;
    // Outbox (docs/behaviour.md#persistence): the step's events are written with its record and emitted once committed.
    const ids = await this.d.store.saveResourceWithEvents(decision.record, rt.record.version, decision.events);
    if (!ids) {
      this.d.logger.warn('stale write dropped', { resource: rt.key, event });
      const fresh = await this.d.store.getResource(rt.key);
      if (fresh) rt.record = fresh;
      this.touch(rt);
      return false;
    }
    rt.record = decision.record;
    this.touch(rt);
    for (const effect of decision.effects) if (effect.kind === 'adopt-version') this.carryOut(rt, effect);
    if (decision.events.length > 0) this.d.emitCommitted(decision.events.map((e, i) => withId(e, ids[i])));
    for (const effect of decision.effects) if (effect.kind !== 'adopt-version') this.carryOut(rt, effect);
    return true;
  }

  /** Carries out one effect of a decided step. */
  private carryOut(rt: Runtime, effect: StepEffect): void {
    switch (effect.kind) {
      case 'adopt-version':
        if (rt.action) rt.action.version = rt.record.version;
        break;
      case 'cancel-action':
        this.actions.cancel(rt, effect.reason);
        break;
      case 'refresh-failing':
        this.refreshFailing(rt);
        break;
      case 'membership-changed':
        this.d.membershipChanged(rt.spec.partition);
        break;
      case 'arm-state-timer':
        this.armStateTimer(rt);
        break;
      case 'alert':
        this.d.alert(effect.level, effect.code, effect.message, rt.spec.ref.id);
        break;
      case 'start-work':
        this.actions.startWork(rt, effect.state);
        break;
    }
  }

  /** Re-evaluates whether the resource counts as failing (storm guard, self-doubt). */
  refreshFailing(rt: Runtime): void {
    const s = rt.record.state;
    // Only this server's own checks count (docs/behaviour.md#several-servers): an episode
    // resumed from the store is not failing here until a check of ours says so.
    this.setFailing(rt, !!rt.record.episode && s !== 'FENCED' && s !== 'FAILED' && rt.healthy === false);
  }

  private setFailing(rt: Runtime, failing: boolean): void {
    if (rt.failing === failing) return;
    rt.failing = failing;
    this.touch(rt);
    this.d.failingChanged(failing ? 1 : -1);
  }

  /**
   * Arms the timer of the current state from the persisted deadlines. docs/behaviour.md#scheduling-and-guards: a
   * deadline is never lost — a timer that fires early re-arms for the rest, and a deadline whose handler left it in
   * place is looked at again (never sooner than {@link OVERDUE_RETRY_MS}).
   */
  armStateTimer(rt: Runtime): void {
    this.d.clock.clearTimeout(rt.stateTimer);
    rt.stateTimer = undefined;
    const at = this.deadline(rt);
    if (at === undefined) return;
    rt.stateTimer = this.d.clock.setTimeout(
      () => {
        rt.stateTimer = undefined;
        this.serial(rt, () => this.onStateTimer(rt)).catch(() => undefined);
      },
      Math.max(0, at - this.d.clock.now()),
    );
  }

  /**
   * The deadline the current state waits for, if any: none while an action is in flight
   * (its own timeout bounds it) or after the resource was removed.
   */
  deadline(rt: Runtime): number | undefined {
    if (rt.removed || rt.action) return undefined;
    return deadlineOf(rt.record.state, rt.record.timers, rt.gateUntil);
  }

  /**
   * Engine invariant (docs/behaviour.md#scheduling-and-guards): a state with a deadline has a live timer. Returns what
   * breaks it.
   */
  timerViolations(): string[] {
    const out: string[] = [];
    for (const rt of this.runtimes.values()) {
      const at = rt.stepping ? undefined : this.deadline(rt);
      if (at !== undefined && rt.stateTimer === undefined)
        out.push(`${rt.key}: ${rt.record.state} waits for ${at} with no live timer`);
    }
    return out;
  }

  private async onStateTimer(rt: Runtime): Promise<void> {
    const now = this.d.clock.now();
    const at = this.deadline(rt);
    if (at === undefined) return;
    // Real timers may fire before the clock reaches their deadline: wait for the rest.
    if (at > now) {
      this.armStateTimer(rt);
      return;
    }
    const event = timerEvent(rt.record.state);
    if (event === 'activity-due') await this.apply(rt, event, 'activity check due');
    else if (event === 'degraded-recheck') await this.apply(rt, event, 'periodic re-check');
    else await this.actions.onTimer(rt);
  }

  /** After every serial step: a state that waits for a deadline keeps a live timer. */
  private keepDeadline(rt: Runtime): void {
    if (rt.stateTimer !== undefined) return;
    const at = this.deadline(rt);
    if (at === undefined) return;
    if (at <= this.d.clock.now()) {
      // The handler left an overdue deadline in place (e.g. a write lost to another writer):
      // look again shortly rather than never, and rather than in a hot loop.
      this.d.clock.clearTimeout(rt.stateTimer);
      rt.stateTimer = this.d.clock.setTimeout(() => {
        rt.stateTimer = undefined;
        this.serial(rt, () => this.onStateTimer(rt)).catch(() => undefined);
      }, OVERDUE_RETRY_MS);
      return;
    }
    this.armStateTimer(rt);
  }

  private scheduleHealth(rt: Runtime, due: number): void {
    rt.healthDue = due;
    // One timer per resource for its whole life, re-armed for each check (one heap entry on the system clock).
    rt.healthTimer ??= reusableTimer(this.d.clock, () => this.runHealth(rt));
    rt.healthTimer.arm(Math.max(0, due - this.d.clock.now()));
  }

  private runHealth(rt: Runtime): void {
    if (rt.removed) return;
    const s = rt.settings;
    const due = rt.healthDue;
    const firedAt = this.d.clock.now();
    const round = ++rt.healthRound;
    this.scheduleHealth(
      rt,
      Math.max(
        firedAt,
        due +
          jittered(
            s.healthCheckInterval,
            this.d.config.jitterFraction,
            keyedRandom(this.d.config.seed, rt.spec.ref.id, 'health', round),
          ),
      ),
    );
    if (rt.healthJob) return; // the previous check is still running: one at a time per resource
    rt.checkDue = due;
    rt.checkFiredAt = firedAt;
    rt.checkBegan = 0;
    rt.healthWork ??= (control) => this.healthWork(rt, control);
    // Called when a reaction to `job.outcome` would run, without the promises.
    rt.healthDone ??= (outcome, job) => {
      try {
        this.healthEnded(rt, job, outcome as JobOutcome<HealthAnswer>);
      } catch (err) {
        this.d.logger.error('health result not applied', { resource: rt.key, error: String(err) });
      }
    };
    rt.healthJob = this.d.scheduler.submit(
      'health',
      'health check',
      s.healthCheckTimeout,
      rt.healthWork,
      rt.healthDone,
    );
  }

  private async healthWork(rt: Runtime, control: JobControl): Promise<HealthAnswer> {
    const startedAt = this.d.clock.now();
    rt.checkBegan = startedAt;
    this.d.healthProbe?.(rt.checkDue, startedAt, rt.checkFiredAt);
    // The job's signal is created only if the provider reads it.
    const ctx = this.actions.context(rt, control);
    const maintenance = await rt.provider.isInMaintenance(rt.spec, ctx);
    const eligible = await rt.provider.isEligible(rt.spec, ctx);
    const health = await rt.provider.healthCheck(rt.spec, ctx);
    return checkedAnswer(rt.provider.resourceType, { maintenance, eligible, health, startedAt });
  }

  private healthEnded(rt: Runtime, job: JobHandle<unknown>, outcome: JobOutcome<HealthAnswer>): void {
    if (rt.healthJob === job) rt.healthJob = undefined;
    if (outcome.kind === 'cancelled') return;
    this.d.checkEnded('health', healthResultOf(outcome), this.d.clock.now() - rt.checkBegan);
    if (outcome.kind === 'ok' && this.nothingNew(rt, outcome.value)) return; // the common case at scale
    const answer: Partial<HealthAnswer> & { health: HealthResult } =
      outcome.kind === 'ok'
        ? outcome.value
        : {
            health: {
              healthy: false,
              reason:
                outcome.kind === 'timeout' ? 'health check timed out' : `health check error: ${String(outcome.error)}`,
            },
          };
    void this.serial(rt, () => this.onHealth(rt, answer));
  }

  /** An AVAILABLE resource passed again with nothing else changed: no step, no write. */
  private nothingNew(rt: Runtime, a: HealthAnswer): boolean {
    return (
      a.health.healthy &&
      a.eligible.ok &&
      !a.maintenance &&
      rt.record.operatorMaintenance === undefined &&
      rt.record.state === 'AVAILABLE' &&
      rt.healthy === true &&
      rt.eligible === true &&
      rt.maintenance === false
    );
  }

  private async onHealth(rt: Runtime, answer: Partial<HealthAnswer> & { health: HealthResult }): Promise<void> {
    // A verdict formed before the last transition (e.g. "power OFF" read before our own
    // power-on landed) would undo that transition with stale facts: only its health counts.
    const stale = answer.startedAt !== undefined && rt.record.since > answer.startedAt;
    // Right after our own power-on the power cache may still say OFF (its read-back is slow
    // or failed): "not eligible" then judges our own action, not the host.
    const ownOn = answer.eligible?.ok === false && this.d.awaitingOwnPowerOn(powerHostOf(rt.spec));
    // "Not eligible" judged on a power state nobody has read yet (UNKNOWN right after a start) is no verdict: the power
    // is read first and the check runs again when that read has ended (docs/behaviour.md#power).
    if (!stale && !ownOn && answer.eligible?.ok === false && this.recheckAfterFirstRead(rt, answer.startedAt)) return;
    const a = stale ? { health: answer.health } : ownOn ? { ...answer, eligible: undefined } : answer;
    const wasHealthy = rt.healthy;
    const wasEligible = rt.eligible;
    rt.healthy = a.health.healthy;
    if (a.eligible) rt.eligible = a.eligible.ok;
    // The operator's flag counts even when the check failed: a host in maintenance is never suspected.
    const operator = rt.record.operatorMaintenance !== undefined;
    if (a.maintenance !== undefined) rt.maintenance = a.maintenance;
    const maintenance = (a.maintenance ?? false) || operator;
    if (a.maintenance !== undefined || operator) {
      const m = maintenanceEvent(rt.record.state, maintenance);
      if (m) await this.apply(rt, m.event, m.reason);
    }
    if (a.eligible && !maintenance) {
      const e = eligibilityEvent(rt.record.state, a.eligible);
      if (e) await this.apply(rt, e.event, e.reason);
    }
    const h = healthEvent(rt.record, a.health, this.d.clock.now());
    await this.apply(rt, h.event, h.reason);
    this.refreshFailing(rt);
    if (wasHealthy !== rt.healthy || wasEligible !== rt.eligible) this.d.membershipChanged(rt.spec.partition);
  }

  /**
   * When the host's power had not been read when the check began (`startedAt`; no read of it had ended since it was
   * registered): asks for that first read (the sync daemon's, within its concurrency limit), and once it has ended —
   * whatever its outcome — runs the next health check at once. False when the power had been read (or cannot be read
   * on the engine's behalf): the verdict stands. So a cold start does not judge a host by a power state nobody has
   * read yet, and a controller that does not answer is still judged so, after its read failed.
   */
  private recheckAfterFirstRead(rt: Runtime, startedAt: number | undefined): boolean {
    const host = powerHostOf(rt.spec);
    const read = host === undefined ? undefined : this.d.power?.firstRead?.(host, startedAt);
    if (!read) return false;
    const again = () => {
      if (rt.removed || this.timersCleared) return;
      this.scheduleHealth(rt, this.d.clock.now()); // re-arming moves the timer
    };
    read.then(again, again);
    return true;
  }

  /**
   * The observe-only flag of `partitions` changed (docs/observe-only.md#switching-to-acting): members that act now
   * drop a recovery or fence decided while observing and verify the failure again.
   */
  async observeSwitched(partitions: readonly string[]): Promise<void> {
    await Promise.all(
      partitions.flatMap((p) =>
        [...(this.members.get(p)?.runtimes() ?? [])].map((rt) =>
          this.serial(rt, () => this.actions.observeSwitched(rt)),
        ),
      ),
    );
  }

  /** The partition became ACTIVE: NONE members start again (open episodes resume). */
  async partitionActivated(partition: string, reason: string): Promise<void> {
    await Promise.all(
      [...(this.members.get(partition)?.runtimes() ?? [])].map((rt) =>
        this.serial(rt, () => this.startInActivePartition(rt, reason)),
      ),
    );
  }

  /** The step of a member whose partition is ACTIVE: it resumes, then takes the operator's maintenance mark again. */
  private async startInActivePartition(rt: Runtime, reason: string): Promise<void> {
    await this.apply(rt, resumeEvent(rt.record.episode, rt.healthy), reason);
    const mark = rt.record.operatorMaintenance;
    const m = mark && maintenanceEvent(rt.record.state, true);
    if (m && mark) await this.apply(rt, m.event, operatorReason('set', mark));
  }

  /**
   * Sets (`mark`) or clears (undefined) the operator's maintenance flag of resource `key` as one serial step
   * (docs/behaviour.md#operator-actions): the flag is written with the transition it means — INELIGIBLE when set,
   * INITIALIZING when cleared while the provider reports no maintenance. Throws {@link NotFoundError} when the
   * resource is not managed here (any more), {@link InvalidRequestError} when its record kept changing under it.
   */
  async setOperatorMaintenance(key: string, mark: OperatorMaintenance | undefined, by: string): Promise<void> {
    const rt = this.runtimes.get(key);
    if (!rt) throw new NotFoundError('resource', key);
    let written = false;
    let ran = false;
    let failure: unknown;
    await this.serial(rt, async () => {
      ran = true;
      try {
        for (let attempt = 0; attempt < 3 && !written; attempt++) {
          const m = maintenanceEvent(rt.record.state, mark !== undefined || rt.maintenance === true);
          const reason = mark ? operatorReason('set', mark) : operatorReason('cleared', { by });
          written = await this.apply(rt, m?.event ?? null, reason, { patch: { operatorMaintenance: mark } });
        }
      } catch (err) {
        failure = err;
      }
    });
    if (failure !== undefined) throw failure;
    if (!ran) throw new NotFoundError('resource', key);
    if (!written) throw new InvalidRequestError(`the record of resource '${key}' kept changing; nothing written`);
  }

  /** The partition left ACTIVE: every member goes to NONE, in-flight work is cancelled. */
  async partitionDeactivated(partition: string, reason: string): Promise<void> {
    await Promise.all(
      [...(this.members.get(partition)?.runtimes() ?? [])].map((rt) =>
        this.serial(rt, async () => {
          await this.apply(rt, 'partition-inactive', reason);
        }),
      ),
    );
  }
}

/** What the engine knows of one resource, for the service's queries and the partition engine. */
export interface ResourceView {
  readonly spec: ResourceSpec;
  readonly record: ResourceRecord;
  readonly healthy: boolean | undefined;
  readonly eligible: boolean | undefined;
  /** Counted as failing by the storm guard / self-doubt. */
  readonly failing: boolean;
  /** The provider's latest maintenance answer (undefined before the first). */
  readonly maintenance: boolean | undefined;
  /** When the next health check is due. */
  readonly nextCheckAt: number;
  /** A recovery or fence held by startup grace or self-doubt retries at this time. */
  readonly gateUntil: number | undefined;
  /** An activity check, recovery or fence is in flight (its own timeout bounds it, not a state deadline). */
  readonly acting: boolean;
}

function viewOf(rt: Runtime): ResourceView {
  return {
    spec: rt.spec,
    record: rt.record,
    healthy: rt.healthy,
    eligible: rt.eligible,
    failing: rt.failing,
    maintenance: rt.maintenance,
    nextCheckAt: rt.healthDue,
    gateUntil: rt.gateUntil,
    acting: rt.action !== undefined,
  };
}

/** A step's event with its outbox row's id (absent only from a store that broke the contract). */
function withId(event: StepEvent, id: number | undefined): HaEvent {
  return id === undefined ? event : { ...event, id };
}

/** The reason of an operator's maintenance step: who set or cleared it, and why. */
function operatorReason(verb: 'set' | 'cleared', mark: { by: string; reason?: string }): string {
  return `operator maintenance ${verb} by ${mark.by}${mark.reason === undefined ? '' : `: ${mark.reason}`}`;
}

/** A health check's outcome as a metrics result. */
function healthResultOf(outcome: Exclude<JobOutcome<HealthAnswer>, { kind: 'cancelled' }>): CheckResult {
  if (outcome.kind === 'ok') return outcome.value.health.healthy ? 'ok' : 'failed';
  return outcome.kind;
}

/** A provider's health answer, checked: a malformed one is a failed check, never a crash. */
function checkedAnswer(
  type: string,
  a: { maintenance: unknown; eligible: unknown; health: unknown; startedAt: number },
): HealthAnswer {
  const bad = (call: string, what: string) => new ProviderContractError(type, call, what);
  if (typeof a.maintenance !== 'boolean') throw bad('isInMaintenance', 'did not answer a boolean');
  if (typeof (a.eligible as Verdict | undefined)?.ok !== 'boolean')
    throw bad('isEligible', 'answered no verdict with a boolean `ok`');
  if (typeof (a.health as HealthResult | undefined)?.healthy !== 'boolean')
    throw bad('healthCheck', 'answered no result with a boolean `healthy`');
  return a as HealthAnswer;
}
