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
  running: boolean;
  dirty: boolean;
  timer?: TimerHandle;
}

/**
 * The partition FSM (docs/behaviour.md#partitions): NONE / ACTIVE / INACTIVE from the operator switch, the
 * provider's conditions, the storm guard and its cooldown. Reassessment is coalesced:
 * many member changes at once cost one pass.
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
    this.runtimes.set(partition.id, { partition: effective, provider, record, running: false, dirty: false });
    // Once per partition run here: what the store counts in its fence window (an earlier run's, another server's).
    const { fenceWindow } = this.resources.settingsOf({
      ref: { type: provider.resourceType, id: '' },
      partition: partition.id,
    });
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

  /** Requests a reassessment; runs soon, once for any number of requests. */
  reassess(id: string): void {
    const pr = this.runtimes.get(id);
    if (!pr) return;
    if (pr.running) {
      pr.dirty = true;
      return;
    }
    pr.running = true;
    void (async () => {
      try {
        do {
          pr.dirty = false;
          await this.assess(pr);
        } while (pr.dirty && this.runtimes.get(id) === pr);
      } catch (err) {
        this.d.logger.error('partition reassessment failed', { partition: id, error: String(err) });
      } finally {
        pr.running = false;
      }
    })();
  }

  /** Promise that resolves when no reassessment is running (tests, shutdown). */
  get busy(): boolean {
    return [...this.runtimes.values()].some((p) => p.running);
  }

  private async assess(pr: PartitionRuntime): Promise<void> {
    this.d.partitionAssessed(pr.partition.id);
    const now = this.d.clock.now();
    const members = this.resources.membersOf(pr.partition.id);
    const views: MemberView[] = members.map((rt) => ({
      spec: rt.spec,
      state: rt.record.state,
      eligible: rt.eligible !== false,
      healthy: rt.healthy,
      inEpisode: !!rt.record.episode,
    }));
    const eligible = members.filter((rt) => rt.eligible !== false).length;
    const failing = members.filter((rt) => rt.failing && rt.eligible !== false).length;
    const settings = this.resources.settingsOf({
      ref: { type: pr.provider.resourceType, id: '' },
      partition: pr.partition.id,
    });
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
      ? await withClockSignal(this.d.clock, settings.healthCheckTimeout, 'partition conditions', async (signal) => {
          const view = {
            partition: pr.partition,
            ancestors: this.d.inventory.lineage(pr.partition.id).slice(1),
            members: views,
          };
          if (!pr.provider.partitionConditions) return defaultPartitionConditions(view);
          return pr.provider.partitionConditions(view, {
            signal,
            clock: this.d.clock,
            logger: this.d.logger,
            inventory: this.d.inventory,
            settings,
            sleep: (ms) => delay(this.d.clock, ms, signal),
            alert: (level, code, message, resource) => this.d.alert(level, code, message, resource),
          });
        }).catch((err: unknown) => ({ ok: false, reason: `conditions check failed: ${String(err)}` }))
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
    const unknown = views.length === 0 || healthUnknown(views);
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

  private armCooldown(pr: PartitionRuntime, at: number): void {
    this.d.clock.clearTimeout(pr.timer);
    pr.timer = this.d.clock.setTimeout(() => this.reassess(pr.partition.id), Math.max(0, at - this.d.clock.now()));
  }
}

/** Some eligible member outside a failure episode has not answered a health check yet. */
function healthUnknown(members: readonly MemberView[]): boolean {
  return members.some((m) => m.eligible && m.healthy === undefined && !m.inEpisode);
}

/** The partition as the engine runs it: the operator's HA switch, when set, wins over the embedder's `haEnabled`. */
export function withOverride(partition: Partition, override: HaOverride | undefined): Partition {
  return override === undefined || override.enabled === partition.haEnabled
    ? partition
    : { ...partition, haEnabled: override.enabled };
}
