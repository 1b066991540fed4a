import type { HaSettings } from '../config/schema.js';
import { partitionTransition, type PartitionEvent } from '../fsm/partition-fsm.js';
import { defaultPartitionConditions, type HAProvider, type MemberView, type Verdict } from '../spi/ha-provider.js';
import type { Partition } from '../spi/partition.js';
import type { PartitionRecord } from '../spi/state-store.js';
import type { HaOverride } from '../spi/operator.js';
import { InvalidRequestError } from '../errors/engine-errors.js';
import type { TimerHandle } from '../spi/clock.js';
import { delay, withClockSignal } from '../util/delay.js';
import type { EngineDeps } from './engine-deps.js';
import type { ResourceEngine } from './resource-engine.js';

interface PartitionRuntime {
  partition: Partition;
  readonly provider: HAProvider;
  record: PartitionRecord;
  /** A pass is running (its conditions or its write in flight). */
  running: boolean;
  /** A pass is deferred to the next turn of the loop. */
  queued: boolean;
  /** Asked for since the running pass began: one more pass follows it. */
  dirty: boolean;
  timer?: TimerHandle;
  /** The partition's settings (its lineage's ids and kinds, which do not change while it is managed). */
  settings: HaSettings;
}

/**
 * The partition FSM (docs/behaviour.md#partitions): NONE / ACTIVE / INACTIVE from the operator switch, the
 * provider's conditions, the storm guard and its cooldown. Reassessment is coalesced: at most one pass per partition
 * per turn of the event loop (the clock's `defer`), however many member changes asked for it — a cluster whose
 * 1,000 members all change at start-up is not counted 2,000 times.
 */
export class PartitionEngine {
  private readonly runtimes = new Map<string, PartitionRuntime>();

  /** Binds the partition engine to the resource engine it drives. */
  constructor(
    private readonly d: EngineDeps,
    private readonly resources: ResourceEngine,
  ) {}

  /** Starts managing a partition (resuming a persisted record). */
  async attach(partition: Partition, provider: HAProvider, persisted?: PartitionRecord): Promise<void> {
    let record = persisted ?? {
      id: partition.id,
      state: 'NONE' as const,
      version: 0,
      since: this.d.clock.now(),
      reason: 'created',
    };
    if (!persisted && !(await this.d.store.savePartition(record, null))) {
      record = (await this.d.store.loadPartitions()).find((p) => p.id === partition.id) ?? record;
    }
    const effective = withOverride(partition, record.haOverride);
    this.d.inventory.putPartition(effective);
    const settings = this.resources.settingsOf({
      ref: { type: provider.resourceType, id: '' },
      partition: partition.id,
    });
    this.runtimes.set(partition.id, {
      partition: effective,
      provider,
      record,
      running: false,
      queued: false,
      dirty: false,
      settings,
    });
    // Once per partition run here: what the store counts in its fence window (an earlier run's, another server's).
    const { fenceWindow } = settings;
    this.d.budget
      .seed(partition.id, fenceWindow)
      .catch((err: unknown) =>
        this.d.logger.warn('fence log not counted', { partition: partition.id, error: String(err) }),
      );
    this.reassess(partition.id);
  }

  /**
   * Replaces the partition's definition (the embedder's switches) and reassesses it; the operator's persisted HA
   * switch, when set, still wins over `haEnabled`. Returns the effective definition.
   */
  update(partition: Partition): Partition {
    const pr = this.runtimes.get(partition.id);
    if (!pr) return partition;
    pr.partition = withOverride(partition, pr.record.haOverride);
    this.reassess(partition.id);
    return pr.partition;
  }

  /**
   * Writes the operator's HA switch (`undefined` clears it) into the partition's record, then reassesses it with the
   * switch applied (docs/behaviour.md#operator-actions). False when the partition is not managed here; a write lost
   * to a concurrent reassessment is tried again with the fresh record.
   */
  async setOverride(id: string, override: HaOverride | undefined, haEnabled: boolean): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const pr = this.runtimes.get(id);
      if (!pr) return false;
      const before = pr.record;
      const next: PartitionRecord = { ...before, version: before.version + 1, haOverride: override };
      if (await this.d.store.savePartition(next, before.version)) {
        // A concurrent reassessment lost to this write and reloaded it (or not yet): never step back.
        if (pr.record.version <= next.version) pr.record = next;
        pr.partition = { ...pr.partition, haEnabled: override?.enabled ?? haEnabled };
        this.d.inventory.putPartition(pr.partition);
        this.reassess(id);
        return true;
      }
      pr.record = (await this.d.store.loadPartitions()).find((p) => p.id === id) ?? pr.record;
    }
    throw new InvalidRequestError(`the record of partition '${id}' kept changing; nothing written`);
  }

  /** Stops managing a partition. */
  detach(id: string): void {
    const pr = this.runtimes.get(id);
    if (pr) this.d.clock.clearTimeout(pr.timer);
    this.runtimes.delete(id);
  }

  /** Stops managing every partition. */
  detachAll(): void {
    for (const id of [...this.runtimes.keys()]) this.detach(id);
  }

  /** Current state record, if the partition is managed. */
  record(id: string): PartitionRecord | undefined {
    return this.runtimes.get(id)?.record;
  }

  /** Whether the partition is managed here. */
  has(id: string): boolean {
    return this.runtimes.has(id);
  }

  /**
   * Requests a reassessment. It runs on the next turn of the event loop, once for every request made until then; a
   * request made while a pass runs is served by one more pass, on the turn after that pass ends.
   */
  reassess(id: string): void {
    const pr = this.runtimes.get(id);
    if (!pr) return;
    pr.dirty = true;
    if (!pr.running && !pr.queued) this.queue(pr);
  }

  /** Whether a reassessment is running or waiting for its turn (tests, shutdown). */
  get busy(): boolean {
    return [...this.runtimes.values()].some((p) => p.running || p.queued);
  }

  /** Defers one pass of `pr` to the next turn of the loop. */
  private queue(pr: PartitionRuntime): void {
    pr.queued = true;
    const run = () => {
      pr.queued = false;
      if (this.runtimes.get(pr.partition.id) === pr) void this.pass(pr);
    };
    if (this.d.clock.defer) this.d.clock.defer(run);
    else this.d.clock.setTimeout(run, 0);
  }

  /** One assessment; asks for the next turn when more was requested meanwhile. */
  private async pass(pr: PartitionRuntime): Promise<void> {
    pr.running = true;
    pr.dirty = false;
    try {
      await this.assess(pr);
    } catch (err) {
      this.d.logger.error('partition reassessment failed', { partition: pr.partition.id, error: String(err) });
    } finally {
      pr.running = false;
      if (pr.dirty && this.runtimes.get(pr.partition.id) === pr) this.queue(pr);
    }
  }

  private async assess(pr: PartitionRuntime): Promise<void> {
    this.d.partitionAssessed(pr.partition.id);
    const now = this.d.clock.now();
    // One pass over the members, no view built for an unchanged one: a pass costs O(members) of plain reads.
    const { views, eligible, failing, unknown } = this.resources.memberSummary(pr.partition.id);
    const settings = pr.settings;
    const storm = eligible > 0 && failing / eligible > settings.maxUnhealthyFraction;
    let { stormSince, cooldownUntil } = pr.record;
    if (storm && stormSince === undefined) {
      stormSince = now;
      cooldownUntil = undefined;
      this.d.alert(
        'critical',
        'storm',
        `storm guard: ${failing} of ${eligible} resources of ${pr.partition.id} failing at once — a shared failure; HA actions halted`,
      );
    } else if (!storm && stormSince !== undefined) {
      stormSince = undefined;
      cooldownUntil = now + settings.stormCooldown;
      this.d.alert(
        'info',
        'storm-lifted',
        `storm guard lifted for ${pr.partition.id}; HA actions resume after the cooldown`,
      );
    }
    const conditions: Verdict = pr.partition.haEnabled
      ? await this.conditions(pr, views, settings)
      : { ok: false, reason: 'HA disabled by the operator' };
    const cooling = cooldownUntil !== undefined && cooldownUntil > now;
    const met = conditions.ok && !storm && !cooling;
    const reason = storm
      ? `storm guard: ${failing} of ${eligible} failing`
      : !conditions.ok
        ? (conditions.reason ?? 'conditions not met')
        : cooling
          ? `storm cooldown until ${new Date(cooldownUntil!).toISOString()}`
          : (conditions.reason ?? 'conditions met');
    const event: PartitionEvent = !pr.partition.haEnabled
      ? 'ha-disabled'
      : pr.record.state === 'NONE'
        ? met
          ? 'ha-enabled-met'
          : 'ha-enabled-unmet'
        : met
          ? 'conditions-met'
          : 'conditions-unmet';
    const from = pr.record.state;
    // After a restart or takeover the members are added, and their health known, only
    // after their first checks: "conditions unmet" would judge before it knows and cancel
    // the work it just resumed (a recovery cut between its OFF and its power-on would leave
    // the host OFF). ACTIVE holds while the partition has no member yet or an eligible
    // member has not been checked (each first answer reassesses); a storm or an operator
    // switch still acts at once.
    if (event === 'conditions-unmet' && !storm && !cooling && from === 'ACTIVE' && unknown) return;
    const to = partitionTransition(from, event);
    if (cooling) this.armCooldown(pr, cooldownUntil!);
    if (to === undefined && stormSince === pr.record.stormSince && cooldownUntil === pr.record.cooldownUntil) return;
    const next: PartitionRecord = {
      ...pr.record,
      state: to ?? from,
      version: pr.record.version + 1,
      since: to ? now : pr.record.since,
      reason: to ? reason : pr.record.reason,
      stormSince,
      cooldownUntil,
    };
    if (!(await this.d.store.savePartition(next, pr.record.version))) {
      pr.record = (await this.d.store.loadPartitions()).find((p) => p.id === pr.partition.id) ?? pr.record;
      pr.dirty = true;
      return;
    }
    pr.record = next;
    if (to === undefined) return;
    this.d.emit({ t: now, type: 'partition.transition', partition: pr.partition.id, from, to, reason });
    if (to === 'ACTIVE') await this.resources.partitionActivated(pr.partition.id, `partition ACTIVE: ${reason}`);
    else await this.resources.partitionDeactivated(pr.partition.id, `partition ${to}: ${reason}`);
  }

  /**
   * The provider's conditions for ACTIVE, bounded by the health-check timeout; without `partitionConditions` the
   * default rule, computed at once (no timer, no signal).
   */
  private conditions(
    pr: PartitionRuntime,
    members: readonly MemberView[],
    settings: HaSettings,
  ): Promise<Verdict> | Verdict {
    const view = {
      partition: pr.partition,
      ancestors: this.d.inventory.lineage(pr.partition.id).slice(1),
      members,
    };
    const own = pr.provider.partitionConditions?.bind(pr.provider);
    if (!own) return defaultPartitionConditions(view);
    return withClockSignal(this.d.clock, settings.healthCheckTimeout, 'partition conditions', (signal) =>
      own(view, {
        signal,
        clock: this.d.clock,
        logger: this.d.logger,
        inventory: this.d.inventory,
        settings,
        sleep: (ms) => delay(this.d.clock, ms, signal),
        alert: (level, code, message, resource) => this.d.alert(level, code, message, resource),
      }),
    ).catch((err: unknown) => ({ ok: false, reason: `conditions check failed: ${String(err)}` }));
  }

  private armCooldown(pr: PartitionRuntime, at: number): void {
    this.d.clock.clearTimeout(pr.timer);
    pr.timer = this.d.clock.setTimeout(() => this.reassess(pr.partition.id), Math.max(0, at - this.d.clock.now()));
  }
}

/** The partition as the engine runs it: the operator's HA switch, when set, wins over the embedder's `haEnabled`. */
export function withOverride(partition: Partition, override: HaOverride | undefined): Partition {
  return override === undefined || override.enabled === partition.haEnabled
    ? partition
    : { ...partition, haEnabled: override.enabled };
}
