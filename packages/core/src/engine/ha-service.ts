import { Subject, filter, type Observable, type Subscription } from 'rxjs';
import { parseConfig, resolveSettings } from '../config/load-config.js';
import type { HaConfig, HaConfigOptions } from '../config/schema.js';
import { InvalidRequestError, NotFoundError } from '../errors/engine-errors.js';
import type { AlertEvent, HaEvent } from '../events/ha-event.js';
import type { Clock } from '../spi/clock.js';
import type { HAProvider } from '../spi/ha-provider.js';
import type { Logger } from '../spi/logger.js';
import type { Partition } from '../spi/partition.js';
import { resourceKey, type ResourceRef, type ResourceSpec } from '../spi/resource.js';
import type { PartitionRecord, ResourceRecord, StateStore } from '../spi/state-store.js';
import type { Actor, FenceBudgetStatus, PartitionDetail, ResourceCounts, ResourceDetail } from '../spi/operator.js';
import { OperatorDesk } from './operator-desk.js';
import { OwnedPartitions, type ServiceOwnershipOptions } from './owned-partitions.js';
import type { PartitionState, ResourceState } from '../spi/states.js';
import { WorkScheduler, type Lane } from '../scheduler/work-scheduler.js';
import { MemoryStateStore } from '../store/memory-state-store.js';
import { systemClock } from '../util/system-clock.js';
import { delay } from '../util/delay.js';
import { hostsForHaWork, hostsForNonHaWork, type AllocationView } from './allocation.js';
import type { EngineDeps, HealthProbe } from './engine-deps.js';
import type { CheckKind, CheckResult, EngineObserver, LaneStats, SchedulerStats } from './engine-observer.js';
import { FenceBudget } from './fence-budget.js';
import { EventHistoryPruner } from './event-history.js';
import { OutboxRelay } from './outbox.js';
import { MemoryInventory } from './memory-inventory.js';
import { PartitionEngine } from './partition-engine.js';
import type { PowerBackend } from './power-backend.js';
import { ResourceEngine, type ResourceView } from './resource-engine.js';
import { powerHostOf } from './power-backend.js';
import { isObserveOnly } from './observe-only.js';
import { noopLogger } from '../power/noop-logger.js';

/** Options of {@link HaService}. */
export interface HaServiceOptions {
  /** Providers, one per resource type. */
  readonly providers: readonly HAProvider[];
  readonly clock?: Clock;
  readonly store?: StateStore;
  /** Configuration (validated here when not already a parsed config). */
  readonly config?: HaConfigOptions | HaConfig;
  readonly logger?: Logger;
  /** The power management service (or anything with the same shape). */
  readonly power?: PowerBackend;
  /** Observes every health check start; used by benchmarks. */
  readonly healthProbe?: HealthProbe;
  /**
   * Joins the power backend's events (`power.events$`: `power.transition`, `power.action`,
   * `power.read-failing`, controller alerts…) into {@link HaService.events$}, in the order
   * they are emitted, so an embedder subscribes to one stream. Off by default for callers
   * that still subscribe to `power.events$` themselves (they would see each power event
   * twice); the DI container turns it on. Power events are not written to the store.
   */
  readonly joinPowerEvents?: boolean;
  /**
   * The service owns `power` (the DI container sets it when it built the power service):
   * `start()` starts its sync daemon and `stop()` stops it and closes the backend last.
   */
  readonly ownPower?: boolean;
  /**
   * Several management servers over one store (docs/behaviour.md#several-servers). The embedder still adds every
   * partition and resource, but a partition's resources run only while this server holds its lease; every state write
   * for it is fenced, and every command re-checks the lease. Without it the service owns everything.
   */
  readonly ownership?: ServiceOwnershipOptions;
}

/** Options of {@link HaService.stop}. */
export interface StopOptions {
  /**
   * How long (ms, on the service's clock) running checks and actions may take to end
   * before they are aborted. Default 0: abort at once. Waiting work never starts.
   */
  readonly deadlineMs?: number;
  /** Call every provider's `shutdown()` (default true). */
  readonly closeProviders?: boolean;
  /** Call the store's `close()` (default true). */
  readonly closeStore?: boolean;
  /** Several servers: release held leases once in-flight work ended (default true; false is a crash). */
  readonly releaseLeases?: boolean;
  /**
   * How long (ms, on the service's clock) stop() then waits for the store calls in hand, the lease releases and the
   * providers and store to close (default 30 s). What has not ended by then is left behind with a warning, and stop()
   * resolves: a database that stopped answering does not keep a process from stopping.
   */
  readonly closeWaitMs?: number;
}

/** {@link StopOptions.closeWaitMs} by default. */
const CLOSE_WAIT_MS = 30_000;

/** A resource's state as the service reports it. */
export interface ResourceStatus {
  readonly ref: ResourceRef;
  readonly partition: string;
  readonly state: ResourceState;
  readonly healthy: boolean | undefined;
  readonly inEpisode: boolean;
  readonly released: boolean;
}

/**
 * The HA engine (docs/behaviour.md#partitions, #resource-states, #scheduling-and-guards): partitions and resources
 * added at run time, health checks in every state, activity checks with backoff, recovery, verified fencing, and the
 * safety guards. Every transition and action is on {@link HaService.events$}.
 *
 * @example
 * const ha = new HaService({ providers: [myProvider], config: { defaults: { quietPeriod: '60s' } } });
 * ha.events$.subscribe((e) => console.log(e));
 * await ha.start();
 * await ha.addPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
 * await ha.addResource({ ref: { type: 'host', id: 'h1' }, partition: 'c1' });
 */
export class HaService {
  /** Every event, in order. */
  readonly events$: Observable<HaEvent>;
  /** Alerts only. */
  readonly alerts$: Observable<AlertEvent>;
  readonly config: HaConfig;
  private readonly subject = new Subject<HaEvent>();
  private readonly clock: Clock;
  private readonly store: StateStore;
  private readonly providers = new Map<string, HAProvider>();
  private readonly inventory = new MemoryInventory();
  private readonly scheduler: WorkScheduler;
  private readonly resources: ResourceEngine;
  private readonly partitions: PartitionEngine;
  private readonly budget: FenceBudget;
  private readonly observedBudget: FenceBudget;
  private readonly desk: OperatorDesk;
  private readonly deps: EngineDeps;
  private failing = 0;
  /** Replaced (not mutated) on change, so a hook may remove itself while called. */
  private observers: readonly EngineObserver[] = [];
  private doubting = false;
  private started = false;
  private stopping?: Promise<void>;
  private powerSub?: Subscription;
  private readonly history: EventHistoryPruner;
  private readonly outbox: OutboxRelay;
  private readonly powerEventsSub?: Subscription;
  private readonly persisted = new Map<string, unknown>();
  /** Resources with a stop intent in the store at start (read once, not per resource). */
  private readonly persistedIntents = new Set<string>();
  /** Power transitions our own commands will cause, per host (docs/behaviour.md#resource-states: not news). */
  private readonly ownPower = new Map<string, { to: 'ON' | 'OFF'; until: number }>();
  /** Power controller name (the binding's `target.host`) → the resource key bound to it. */
  private readonly hosts = new Map<string, string>();
  /** Several servers: this server's partitions and leases, when configured. */
  private readonly owned?: OwnedPartitions;

  /**
   * Builds the service; nothing runs until {@link HaService.start}. The configuration is
   * validated here; overrides that name partitions or resources are checked against the
   * inventory by `checkOverrideTargets`, which an embedder calls once it knows them.
   */
  constructor(private readonly options: HaServiceOptions) {
    this.config = isParsed(options.config) ? options.config : parseConfig(options.config ?? {});
    this.clock = options.clock ?? systemClock;
    const base = options.store ?? new MemoryStateStore();
    this.owned = options.ownership && this.ownedPartitions(options.ownership, base);
    this.store = this.owned?.store ?? base;
    this.outbox = new OutboxRelay(this.store, (e) => this.subject.next(e), options.logger ?? noopLogger);
    for (const p of options.providers) this.providers.set(p.resourceType, p);
    this.events$ = this.subject.asObservable();
    this.alerts$ = this.events$.pipe(filter((e): e is AlertEvent => e.type === 'alert'));
    this.scheduler = new WorkScheduler({
      clock: this.clock,
      limits: this.config.concurrency,
      maxQueued: this.config.maxQueued,
    });
    this.budget = new FenceBudget(this.store, this.clock, (scope, reason) =>
      this.emit({ t: this.clock.now(), type: 'fencing.halted', scope, reason }),
    );
    // Observe-only: would-be stop commands are counted in memory, never in the store the real HA beside it may share.
    this.observedBudget = new FenceBudget(new MemoryStateStore(), this.clock, (scope, reason) =>
      this.deps.alert(
        'warning',
        'would-halt-fencing',
        `observe-only: the fence budget would now hold stop commands for ${scope}: ${reason} (nothing is held for real)`,
      ),
    );
    this.deps = {
      clock: this.clock,
      store: this.store,
      scheduler: this.scheduler,
      config: this.config,
      logger: options.logger ?? noopLogger,
      inventory: this.inventory,
      power: options.power,
      budget: this.budget,
      observedBudget: this.observedBudget,
      observeOnly: (p) => this.isObserveOnly(p),
      startedAt: this.clock.now(),
      healthProbe: options.healthProbe,
      checkEnded: (kind, result, ms) => {
        if (this.observers.length > 0) this.checkEnded(kind, result, ms);
      },
      partitionAssessed: (p) => {
        for (const o of this.observers) {
          try {
            o.partitionAssessed?.(p);
          } catch {
            // an observer must never break the engine
          }
        }
      },
      emit: (e) => this.emit(e),
      emitCommitted: (events) => this.outbox.committed(events),
      alert: (level, code, message, resource) =>
        this.emit({ t: this.clock.now(), type: 'alert', level, code, message, ...(resource ? { resource } : {}) }),
      selfDoubting: () => this.doubting,
      membershipChanged: (p) => this.partitions.reassess(p),
      partitionState: (p) => this.partitions.record(p)?.state,
      failingChanged: (delta) => this.onFailingChanged(delta),
      expectOwnPower: (host, to, until) => this.ownPower.set(host, { to, until }),
      awaitingOwnPowerOn: (host) => {
        const own = host === undefined ? undefined : this.ownPower.get(host);
        return own?.to === 'ON' && this.clock.now() <= own.until;
      },
      ...(this.owned
        ? {
            actingSince: (p: string) => this.owned?.actingSince(p),
            mayAct: (p: string) => this.owned?.mayAct(p),
          }
        : {}),
    };
    this.resources = new ResourceEngine(this.deps);
    const h = this.config.eventHistory;
    this.history = new EventHistoryPruner(this.store, this.clock, this.deps.logger, {
      retentionMs: h.retentionDays * 86_400_000,
      maxRows: h.maxRows,
      pruneIntervalMs: h.pruneInterval,
    });
    this.partitions = new PartitionEngine(this.deps, this.resources);
    this.desk = new OperatorDesk({
      clock: this.clock,
      config: this.config,
      store: this.store,
      inventory: this.inventory,
      resources: this.resources,
      partitions: this.partitions,
      budget: this.budget,
      power: options.power,
      owned: this.owned,
      emit: (e) => this.emit(e),
      reassessChildren: (id) => this.reassessChildren(id),
    });
    if (options.joinPowerEvents) this.powerEventsSub = options.power?.events$?.subscribe((e) => this.subject.next(e));
  }

  /** Loads persisted state and starts watching power; the startup grace begins now. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    (this.deps as { startedAt: number }).startedAt = this.clock.now();
    if (!this.owned) {
      // Several servers load a partition's records when they take it, not before.
      for (const r of await this.store.loadResources()) this.persisted.set(`r:${r.key}`, r);
      for (const p of await this.store.loadPartitions()) this.persisted.set(`p:${p.id}`, p);
      for (const i of await this.store.listIntents()) this.persistedIntents.add(i.resource);
      // Events committed by an earlier run whose delivery was not recorded: on the bus again, before any new one.
      await this.outbox.relay();
    }
    this.powerSub = this.options.power?.transitions$?.subscribe((t) => {
      const own = this.ownPower.get(t.host);
      if (own && t.to === own.to && this.clock.now() <= own.until) {
        this.ownPower.delete(t.host); // seen once, by our read-back or the sync daemon
        if (t.by !== 'ha') return;
      }
      const key = this.hosts.get(t.host);
      if (key !== undefined) this.resources.powerTransition(key, t);
    });
    this.budget
      .seed('global', resolveSettings(this.config, {}).fenceWindow)
      .catch((err: unknown) => this.deps.logger.warn('fence log not counted', { error: String(err) }));
    if (this.options.ownPower) this.options.power?.startSync?.();
    this.owned?.ownership.start();
    this.history.start();
  }

  /**
   * Stops the service; persisted state stays for the next start. No new check or action
   * starts and waiting ones are dropped; running ones get `deadlineMs` (on the clock) to
   * end — their results are applied and recorded as usual — and the rest are aborted, with
   * the status and lease reads the engine makes outside a job (an aborted read decides
   * nothing: the resource keeps its state). An aborted stop command keeps its persisted
   * intent, which the next start reconciles by a status read (SPEC §2), so no stop command
   * is left without its outcome known. Then every provider's `shutdown()` and the store's
   * `close()` are called (unless told not to) and {@link HaService.events$} completes —
   * after `closeWaitMs` at the latest when a store call or a provider never answers. Calling
   * it again returns the same promise; bad options reject it ({@link InvalidRequestError}).
   */
  stop(options: StopOptions = {}): Promise<void> {
    for (const name of ['deadlineMs', 'closeWaitMs'] as const) {
      const v = options[name];
      if (v !== undefined && !(Number.isFinite(v) && v >= 0))
        return Promise.reject(new InvalidRequestError(`stop: ${name} must be a finite number ≥ 0 (got ${String(v)})`));
    }
    this.stopping ??= this.shutdown(options);
    return this.stopping;
  }

  private async shutdown(options: StopOptions): Promise<void> {
    const release = options.releaseLeases ?? true;
    if (!release) this.owned?.ownership.stop(); // a crash: no renewal, no release
    this.resources.clearTimers();
    if (this.options.ownPower) this.options.power?.stopSync?.();
    const drained = this.scheduler.drain();
    const deadline = options.deadlineMs ?? 0;
    if (deadline > 0 && this.scheduler.inFlight > 0) {
      const timer = new AbortController();
      await Promise.race([drained, delay(this.clock, deadline, timer.signal).catch(() => undefined)]);
      timer.abort();
    }
    this.powerSub?.unsubscribe();
    this.scheduler.close();
    this.resources.closeActions();
    // The store calls in hand and the closing get closeWaitMs together; closing starts even when the calls in hand did
    // not end (closing the store may be what ends them).
    const wait = options.closeWaitMs ?? CLOSE_WAIT_MS;
    const end = this.clock.now() + wait;
    const settled = await this.within(this.settle(release), wait);
    this.outbox.close(); // a write answering later makes no store call of ours after close()
    const closing = this.closeAll(options);
    const closed = settled ? await this.within(closing, Math.max(0, end - this.clock.now())) : false;
    if (!settled) closing.catch((err: unknown) => this.deps.logger.warn('closing failed', { error: String(err) }));
    if (!closed) this.deps.logger.warn('stopped with store or provider calls outstanding', { waitedMs: wait });
    this.powerEventsSub?.unsubscribe();
    this.subject.complete();
  }

  /** Shutdown, once no work runs: every result in hand is recorded, the event history and outbox end, leases go. */
  private async settle(release: boolean): Promise<void> {
    // Let every result already in hand (or cancelled just now) finish its serial step.
    await this.resources.retire();
    await this.history.stop();
    await this.outbox.drain();
    this.partitions.detachAll();
    if (release) await this.owned?.ownership.leave();
  }

  /**
   * Shutdown, last: providers and store closed (unless told not to), and the power service when it is ours — side by
   * side, so a provider that never ends its shutdown does not leave the store open.
   */
  private async closeAll(options: StopOptions): Promise<void> {
    const providers =
      (options.closeProviders ?? true) ? [...this.providers.values()].map(async (p) => p.shutdown?.()) : [];
    const store =
      (options.closeStore ?? true)
        ? this.store
            .close?.()
            .catch((err: unknown) => this.deps.logger.warn('store not closed', { error: String(err) }))
        : undefined;
    const power = this.options.ownPower ? this.options.power?.close?.() : undefined;
    await Promise.allSettled([...providers, store, power]);
    await power; // its failure is stop()'s, as it always was
  }

  /**
   * Whether `work` ends within `ms` on the clock (rejects with its error when it fails in time). A `work` still running
   * then is left to itself, its late failure logged.
   */
  private async within(work: Promise<void>, ms: number): Promise<boolean> {
    const timer = new AbortController();
    try {
      const ended = await Promise.race([
        work.then(() => true),
        delay(this.clock, ms, timer.signal).then(
          () => false,
          () => true,
        ),
      ]);
      if (!ended) work.catch((err: unknown) => this.deps.logger.warn('stop step failed late', { error: String(err) }));
      return ended;
    } finally {
      timer.abort();
    }
  }

  /**
   * Adds a partition (zone, pod or cluster). Parents must exist first. An operator's HA switch persisted for it
   * (see {@link HaService.setHaEnabled}) wins over its `haEnabled`.
   */
  async addPartition(partition: Partition): Promise<void> {
    const provider = [...this.providers.values()].find((p) => p.partitionKind === partition.kind);
    const persisted = this.persisted.get(`p:${partition.id}`) as PartitionRecord | undefined;
    this.inventory.putPartition(this.desk.partitionAdded(partition, persisted, !!provider));
    if (provider && this.owned) {
      this.owned.manage(partition.id, provider); // attached once this server holds its lease
    } else if (provider) {
      await this.partitions.attach(partition, provider, this.persisted.get(`p:${partition.id}`) as never);
    }
  }

  /**
   * Changes a partition (enable/disable, HA switch, observe-only); its kind and parent stay
   * ({@link InvalidRequestError} otherwise, nothing changed). An operator's HA switch set through
   * {@link HaService.setHaEnabled} with an actor still wins over `haEnabled`. Switched from observe-only to acting, its
   * members and those of the partitions inside it verify again any failure whose command was decided while observing
   * (docs/observe-only.md#switching-to-acting).
   */
  async updatePartition(partition: Partition): Promise<void> {
    const before = this.inventory.partition(partition.id);
    if (!before) throw new NotFoundError('partition', partition.id);
    // Its lineage decides its members' settings, provider and ownership, resolved when they were added.
    if (before.kind !== partition.kind || before.parent !== partition.parent)
      throw new InvalidRequestError('moving a partition or changing its kind: remove and add it');
    const effective = this.desk.effective(partition);
    this.inventory.putPartition(effective);
    this.partitions.update(effective);
    this.reassessChildren(partition.id);
    if ((before.observeOnly === true) !== (partition.observeOnly === true))
      await this.resources.observeSwitched([partition.id, ...this.childrenOf(partition.id)]);
  }

  /**
   * Whether resources of `partitionId` are observe-only (docs/observe-only.md): the whole engine is
   * (`HaConfig.observeOnly`), or the partition or an enclosing one is. False for an unknown partition unless the whole
   * engine is.
   */
  isObserveOnly(partitionId: string): boolean {
    return isObserveOnly(this.config.observeOnly, this.inventory, partitionId);
  }

  /**
   * The HA switch of a partition (docs/behaviour.md#operator-actions). With an `actor` it is the operator's: persisted
   * in the partition's record — it wins over the configuration's `haEnabled`, also after a restart — and audited as an
   * `operator.action` event. Without one it is the embedder's own switch: `haEnabled` changes and a persisted operator
   * switch, if any, is dropped. Several servers: with an actor, a partition another server runs is refused with
   * {@link NotOwnerError} (nothing written), and a zone or pod with {@link InvalidRequestError}.
   */
  async setHaEnabled(partitionId: string, enabled: boolean, actor?: Actor): Promise<void> {
    const p = this.inventory.partition(partitionId);
    if (!p) throw new NotFoundError('partition', partitionId);
    await this.desk.setHaEnabled(partitionId, enabled, actor, p);
  }

  /**
   * The operator's maintenance flag of a resource (docs/behaviour.md#operator-actions): ORed with the provider's
   * `isInMaintenance`, so the resource goes INELIGIBLE while it is on; clearing it (`on` false) clears only this flag,
   * and the resource leaves INELIGIBLE for INITIALIZING unless the provider still reports maintenance. Persisted in
   * the resource's record; audited as an `operator.action` event. Throws {@link NotFoundError} for an unknown
   * resource and, several servers, {@link NotOwnerError} for one another server runs (nothing written).
   */
  setMaintenance(ref: ResourceRef, on: boolean, actor: Actor): Promise<void> {
    return this.desk.setMaintenance(ref, on, actor);
  }

  /**
   * Everything the engine knows of one resource (the operator's view). Several servers: a resource another server
   * runs reads NONE with `owned` false. Throws {@link NotFoundError} when the resource was not added.
   */
  describeResource(ref: ResourceRef): ResourceDetail {
    return this.desk.describeResource(ref);
  }

  /** {@link HaService.describeResource} of every resource added, in the order they were added. */
  describeResources(): ResourceDetail[] {
    return this.desk.describeResources();
  }

  /**
   * Resources by partition and HA state, and by power state, as {@link HaService.describeResources} would count them,
   * in one pass and without building a detail per resource (a metrics scrape of a large engine).
   */
  resourceCounts(): ResourceCounts {
    return this.desk.resourceCounts();
  }

  /** Everything the engine knows of every partition added, parents first. */
  describePartitions(): PartitionDetail[] {
    return this.desk.describePartitions();
  }

  /**
   * The fence budget of `global` and of every partition this server runs. `used` costs no store read: the stop
   * commands this server took in the window, plus what the store counted when the scope started here or when it last
   * refused a command (docs/behaviour.md#operator-actions).
   */
  fenceBudgets(): FenceBudgetStatus[] {
    return this.desk.fenceBudgets();
  }

  /** Removes an empty partition. */
  async removePartition(id: string): Promise<void> {
    if (this.inventory.resourcesIn(id).length > 0)
      throw new InvalidRequestError(`partition '${id}' still has resources`);
    this.partitions.detach(id);
    await this.owned?.unmanage(id);
    this.inventory.deletePartition(id);
    this.desk.partitionRemoved(id);
  }

  /**
   * Adds a resource to a partition; a persisted record of it is resumed. Its power
   * binding (`spec.power`), if any, is registered with the power backend under the
   * binding's `target.host` — no separate `power.register` call is needed (one made
   * before with the same binding is harmless). The engine reaches a resource's power only
   * through its own binding. Throws {@link InvalidRequestError} when another resource is
   * already bound to that controller name.
   */
  async addResource(spec: ResourceSpec): Promise<void> {
    await this.attachAdded(this.admit(spec));
  }

  /**
   * Adds many resources at once: the same as {@link HaService.addResource} for each, in order, except that their
   * first records are written together (the SQLite store commits them as one), not one commit after another — the
   * start-up of 100,000 resources. Each is checked before any is added: one refused (unknown provider or partition,
   * a duplicate, a controller bound twice) throws and adds none. A store error writing one fails the call after the
   * rest were tried; the others stay added.
   */
  async addResources(specs: readonly ResourceSpec[]): Promise<void> {
    const keys = new Set<string>();
    const providers = specs.map((spec) => {
      const provider = this.check(spec);
      const key = resourceKey(spec.ref);
      if (keys.has(key)) throw new InvalidRequestError(`resource '${key}' already exists`);
      keys.add(key);
      return provider;
    });
    const bound: ResourceSpec[] = [];
    try {
      for (const spec of specs) {
        this.bindPower(resourceKey(spec.ref), undefined, spec);
        bound.push(spec);
      }
    } catch (err) {
      for (const spec of bound) this.bindPower(resourceKey(spec.ref), spec, undefined);
      throw err;
    }
    const added = specs.map((spec, i) => this.attachAdded(this.admitChecked(spec, providers[i] as HAProvider)));
    const failed = (await Promise.allSettled(added)).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Checks `spec` may be added (its provider and partition exist, it is not there yet). */
  private check(spec: ResourceSpec): HAProvider {
    const provider = this.providers.get(spec.ref.type);
    if (!provider) throw new NotFoundError('provider for resource type', spec.ref.type);
    if (!this.inventory.partition(spec.partition)) throw new NotFoundError('partition', spec.partition);
    const key = resourceKey(spec.ref);
    if (this.resources.view(key) || (this.owned && this.inventory.resource(spec.ref)))
      throw new InvalidRequestError(`resource '${key}' already exists`);
    return provider;
  }

  /** Checks `spec`, binds its power and puts it in the inventory. */
  private admit(spec: ResourceSpec): { spec: ResourceSpec; provider: HAProvider } {
    const provider = this.check(spec);
    this.bindPower(resourceKey(spec.ref), undefined, spec);
    return this.admitChecked(spec, provider);
  }

  /** Puts a checked (and power-bound) `spec` in the inventory. */
  private admitChecked(spec: ResourceSpec, provider: HAProvider): { spec: ResourceSpec; provider: HAProvider } {
    this.inventory.putResource(spec);
    return { spec, provider };
  }

  /** Starts managing an admitted resource here (several servers: only while this server runs its partition). */
  private async attachAdded({ spec, provider }: { spec: ResourceSpec; provider: HAProvider }): Promise<void> {
    const key = resourceKey(spec.ref);
    if (this.owned) {
      // Runs here only while this server holds the partition; its record is loaded afresh then.
      if (this.owned.running(spec.partition))
        await this.resources.attach(spec, provider, await this.store.getResource(key));
      return;
    }
    const persisted = this.persisted.get(`r:${key}`) as ResourceRecord | undefined;
    this.persisted.delete(`r:${key}`);
    await this.resources.attach(
      spec,
      provider,
      persisted,
      this.persistedIntents.delete(key), // read once at start, for every resource
    );
  }

  /** Updates a resource's spec (attributes, power binding: re-registered when it changed). */
  async updateResource(spec: ResourceSpec): Promise<void> {
    const key = resourceKey(spec.ref);
    const known = this.known(spec.ref);
    if (!known) throw new NotFoundError('resource', key);
    if (known.spec.partition !== spec.partition)
      throw new InvalidRequestError('moving a resource between partitions: remove and add it');
    this.bindPower(key, known.spec, spec);
    this.inventory.putResource(spec);
    this.resources.update(key, spec);
  }

  /** Removes a resource; its in-flight work is cancelled, its record deleted and its power binding unregistered. */
  async removeResource(ref: ResourceRef): Promise<void> {
    const key = resourceKey(ref);
    const known = this.known(ref);
    if (!known) throw new NotFoundError('resource', key);
    this.inventory.deleteResource(ref);
    // Several servers: only the partition's owner deletes the record.
    if (this.resources.view(key)) await this.resources.detach(key);
    this.bindPower(key, known.spec, undefined);
  }

  /**
   * Operator: lets held stop commands go for `scope` (a partition id or `global`); with an `actor`, audited as an
   * `operator.action` event. Throws {@link NotFoundError} for a scope that is no fence budget's. Several servers: the
   * resume is this server's (its budget); with an actor, a partition another server runs is refused with
   * {@link NotOwnerError}.
   */
  resumeFencing(scope: string, actor?: Actor): void {
    this.desk.resumeFencing(scope, actor);
    this.observedBudget.resume(scope);
  }

  /** The state of one resource. */
  resource(ref: ResourceRef): ResourceStatus {
    const rt = this.resources.view(resourceKey(ref));
    if (!rt) throw new NotFoundError('resource', resourceKey(ref));
    return statusOf(rt);
  }

  /** Every resource's state. */
  list(): ResourceStatus[] {
    return this.resources.views().map(statusOf);
  }

  /** The HA state of a partition. */
  partitionState(id: string): PartitionState {
    const rec = this.partitions.record(id);
    if (!rec) throw new NotFoundError('partition', id);
    return rec.state;
  }

  /** Resources that may take work needing HA: AVAILABLE only (docs/behaviour.md#allocation-helpers). */
  forHaWork(): ResourceRef[] {
    return hostsForHaWork(this.allocationView());
  }

  /**
   * Resources that may take work not needing HA, preferring partitions without HA
   * (docs/behaviour.md#allocation-helpers).
   */
  forNonHaWork(): ResourceRef[] {
    return hostsForNonHaWork(this.allocationView());
  }

  /** Whether this MS currently doubts itself (docs/behaviour.md#scheduling-and-guards). */
  get selfDoubting(): boolean {
    return this.doubting;
  }

  /**
   * Self-check of docs/behaviour.md#scheduling-and-guards "a deadline is never lost": every resource whose state waits
   * for a persisted deadline has a live timer. Returns what breaks it (empty when sound);
   * for tests and diagnostics.
   */
  deadlineViolations(): string[] {
    return this.resources.timerViolations();
  }

  /** Scheduler figures: queued jobs, shed health checks and each lane's busy slots and capacity. */
  get schedulerStats(): SchedulerStats {
    const s = this.scheduler;
    const lane = (l: Lane): LaneStats => ({ busy: s.active(l), capacity: s.capacity(l) });
    return {
      queued: s.queued,
      shed: s.shed,
      lanes: { health: lane('health'), activity: lane('activity'), recover: lane('recover'), fence: lane('fence') },
    };
  }

  /**
   * Adds hooks for what events do not carry (check results and latency; metrics use it).
   * Returns a function that removes them.
   */
  observe(observer: EngineObserver): () => void {
    this.observers = [...this.observers, observer];
    return () => {
      this.observers = this.observers.filter((o) => o !== observer);
    };
  }

  private checkEnded(kind: CheckKind, result: CheckResult, durationMs: number): void {
    for (const o of this.observers) {
      try {
        o.checkEnded?.(kind, result, durationMs);
      } catch {
        // an observer must never break the engine
      }
    }
  }

  /** Moves resource `key`'s power binding from `before`'s to `after`'s (either may be absent). */
  private bindPower(key: string, before: ResourceSpec | undefined, after: ResourceSpec | undefined): void {
    const old = before && powerHostOf(before);
    const next = after && powerHostOf(after);
    const owner = next === undefined ? undefined : this.hosts.get(next);
    if (owner !== undefined && owner !== key) {
      throw new InvalidRequestError(`power controller '${next}' is already bound to resource '${owner}'`);
    }
    if (old !== undefined && old !== next) {
      this.hosts.delete(old);
      this.options.power?.unregister?.(old);
    }
    if (next !== undefined && after?.power) {
      this.options.power?.register?.(next, after.power);
      this.hosts.set(next, key);
    }
  }

  /** A resource this service knows: running here, or (several servers) added but owned elsewhere. */
  private known(ref: ResourceRef): { spec: ResourceSpec } | undefined {
    const view = this.resources.view(resourceKey(ref));
    if (view || !this.owned) return view;
    const spec = this.inventory.resource(ref);
    return spec && { spec };
  }

  private ownedPartitions(o: ServiceOwnershipOptions, base: StateStore): OwnedPartitions {
    return new OwnedPartitions(
      {
        clock: this.clock,
        config: this.config,
        logger: this.options.logger,
        inventory: this.inventory,
        providers: this.providers,
        resources: () => this.resources,
        partitions: () => this.partitions,
        emit: (e) => this.emit(e),
        relay: (partition) => this.outbox.relay(partition),
        stopping: () => this.stopping !== undefined,
        ...(this.options.power?.state ? { powerState: (host: string) => this.options.power?.state?.(host) } : {}),
      },
      o,
      base,
    );
  }

  private allocationView(): AllocationView[] {
    return this.resources.views().map((rt) => ({
      ref: rt.spec.ref,
      state: rt.record.state,
      partitionHa: this.partitions.record(rt.spec.partition)?.state ?? 'NONE',
    }));
  }

  private reassessChildren(id: string): void {
    for (const child of this.childrenOf(id)) this.partitions.reassess(child);
  }

  private childrenOf(id: string): string[] {
    const out: string[] = [];
    for (const rt of this.resources.partitionsWithMembers()) {
      if (this.inventory.lineage(rt).some((p) => p.id === id) && rt !== id) out.push(rt);
    }
    return out;
  }

  private onFailingChanged(delta: number): void {
    this.failing += delta;
    const total = this.resources.size;
    const fraction = this.config.defaults.maxUnhealthyFraction ?? 0.5;
    const doubt = total >= this.config.selfDoubtMinSample && this.failing / total > fraction;
    if (doubt === this.doubting) return;
    this.doubting = doubt;

    this.deps.alert(
      doubt ? 'critical' : 'info',
      doubt ? 'self-doubt' : 'self-doubt-cleared',
      doubt
        ? `self-doubt: ${this.failing} of ${total} resources failing — most likely this management server's own network; recoveries and fences stop`
        : 'self-doubt cleared; recoveries and fences may resume',
    );
    if (doubt && this.owned && !this.stopping) {
      // After the alert, outside this call: handing over detaches resources, which changes the count again.
      const reason = `self-doubt: ${this.failing} of ${total} resources failing`;
      const owned = this.owned;
      queueMicrotask(() => {
        owned
          .handOver(reason)
          .catch((err: unknown) => this.deps.logger.error('partitions not handed over', { error: String(err) }));
      });
    }
  }

  private emit(event: HaEvent): void {
    this.subject.next(event);
    if (event.type !== 'power.action') {
      this.store
        .appendEvent(event)
        .catch((err: unknown) =>
          this.deps.logger.warn('event not persisted', { type: event.type, error: String(err) }),
        );
    }
  }
}

function statusOf(rt: ResourceView): ResourceStatus {
  const ep = rt.record.episode;
  return {
    ref: rt.spec.ref,
    partition: rt.spec.partition,
    state: rt.record.state,
    healthy: rt.healthy,
    inEpisode: !!ep,
    released: !!ep?.released || rt.record.releasedOutside,
  };
}

function isParsed(config: unknown): config is HaConfig {
  return (
    typeof config === 'object' &&
    config !== null &&
    'concurrency' in config &&
    'zones' in config &&
    'maxQueued' in config
  );
}
