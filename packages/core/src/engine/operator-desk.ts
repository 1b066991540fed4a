import { resolveSettings } from '../config/load-config.js';
import type { HaConfig } from '../config/schema.js';
import { InvalidRequestError, NotFoundError, NotOwnerError } from '../errors/engine-errors.js';
import type { HaEvent, OperatorAction } from '../events/ha-event.js';
import type { Clock } from '../spi/clock.js';
import type {
  Actor,
  FenceBudgetStatus,
  HaOverride,
  PartitionDetail,
  ResourceCounts,
  ResourceDetail,
  ResourceStateCount,
} from '../spi/operator.js';
import type { Partition } from '../spi/partition.js';
import type { PowerState } from '../spi/power-driver.js';
import { resourceKey, type ResourceRef, type ResourceSpec } from '../spi/resource.js';
import type { PartitionRecord, StateStore } from '../spi/state-store.js';
import type { ResourceState } from '../spi/states.js';
import type { FenceBudget } from './fence-budget.js';
import type { MemoryInventory } from './memory-inventory.js';
import type { OwnedPartitions } from './owned-partitions.js';
import { withOverride, type PartitionEngine } from './partition-engine.js';
import { powerHostOf, type PowerBackend } from './power-backend.js';
import { isObserveOnly } from './observe-only.js';
import { budgetStatus, partitionDetail, resourceDetail, unownedDetail } from './read-model.js';
import type { ResourceEngine } from './resource-engine.js';

/** What the operator desk reaches of its service. */
export interface OperatorDeskHost {
  readonly clock: Clock;
  readonly config: HaConfig;
  readonly store: StateStore;
  readonly inventory: MemoryInventory;
  readonly resources: ResourceEngine;
  readonly partitions: PartitionEngine;
  readonly budget: FenceBudget;
  readonly power?: PowerBackend;
  /** Several servers: this server's partitions and leases. */
  readonly owned?: OwnedPartitions;
  emit(event: HaEvent): void;
  /** Reassesses the partitions enclosed by `id` (their lineage changed). */
  reassessChildren(id: string): void;
}

/**
 * The operator's side of the service (docs/behaviour.md#operator-actions): the read model (`describe*`,
 * `fenceBudgets`) and the audited actions (maintenance, HA switch, fencing resume). Reads cost no store access.
 */
export class OperatorDesk {
  /** Records that hold the operator's HA switch of partitions without an engine record (no provider of their kind). */
  private readonly switchRecords = new Map<string, PartitionRecord>();
  private readonly addedAt = new Map<string, number>();

  /** Builds the desk over its service's parts. */
  constructor(private readonly h: OperatorDeskHost) {}

  /**
   * A partition was added: remembers when, and — when it has no engine record — applies the operator's HA switch
   * from `persisted`. Returns the partition as the engine must run it.
   */
  partitionAdded(partition: Partition, persisted: PartitionRecord | undefined, engineRecord: boolean): Partition {
    this.addedAt.set(partition.id, this.h.clock.now());
    if (engineRecord || !persisted) return partition;
    this.switchRecords.set(partition.id, persisted);
    return withOverride(partition, persisted.haOverride);
  }

  /** A partition was removed. */
  partitionRemoved(id: string): void {
    this.addedAt.delete(id);
    this.switchRecords.delete(id);
  }

  /** `partition` with the operator's HA switch applied, as the engine must run it. */
  effective(partition: Partition): Partition {
    const override =
      this.h.partitions.record(partition.id)?.haOverride ?? this.switchRecords.get(partition.id)?.haOverride;
    return withOverride(partition, override);
  }

  /** The operator's view of one resource; {@link NotFoundError} when the service does not know it. */
  describeResource(ref: ResourceRef): ResourceDetail {
    const spec = this.h.inventory.resource(ref);
    if (!spec) throw new NotFoundError('resource', resourceKey(ref));
    return this.detailOf(spec);
  }

  /** The operator's view of every resource added, in the order they were added. */
  describeResources(): ResourceDetail[] {
    return this.h.inventory.allResources().map((spec) => this.detailOf(spec));
  }

  /**
   * What {@link OperatorDesk.describeResources} would count — resources by partition and state (a resource this server
   * does not run counts as `NONE`), and by power state — in one pass, without building a detail per resource.
   */
  resourceCounts(): ResourceCounts {
    const byState: Array<{ -readonly [K in keyof ResourceStateCount]: ResourceStateCount[K] }> = [];
    const index = new Map<string, Map<ResourceState, { count: number }>>();
    const byPower: Record<PowerState, number> = { ON: 0, OFF: 0, UNKNOWN: 0 };
    for (const [key, spec] of this.h.inventory.resourceEntries()) {
      const state = this.h.resources.stateOf(key) ?? 'NONE';
      let states = index.get(spec.partition);
      if (!states) index.set(spec.partition, (states = new Map()));
      const known = states.get(state);
      if (known) known.count++;
      else {
        const entry = { partition: spec.partition, state, count: 1 };
        states.set(state, entry);
        byState.push(entry);
      }
      const power = this.powerOf(spec);
      if (power !== undefined) byPower[power]++;
    }
    return { byState, byPower };
  }

  /** The operator's view of every partition added, parents first. */
  describePartitions(): PartitionDetail[] {
    return this.h.inventory.allPartitions().map((p) => {
      const record = this.h.partitions.record(p.id);
      const ownership = this.h.owned?.ownership;
      const unit = ownership?.manages(p.id) === true;
      const epoch = unit ? ownership?.fence(p.id)?.epoch : undefined;
      return partitionDetail(p, record, {
        observeOnly: isObserveOnly(this.h.config.observeOnly, this.h.inventory, p.id),
        members: this.h.inventory.resourcesIn(p.id).length,
        ...(unit ? { lease: { held: epoch !== undefined, ...(epoch === undefined ? {} : { epoch }) } } : {}),
        fallback: { since: this.addedAt.get(p.id) ?? 0, reason: this.noRecordReason(p, unit) },
        switchRecord: this.switchRecords.get(p.id),
      });
    });
  }

  /**
   * The fence budget: `global`, then every partition this server runs. `used` is what the budget knows without a
   * store read (see `FenceBudget.used`).
   */
  fenceBudgets(): FenceBudgetStatus[] {
    const b = this.h.budget;
    const globalWindow = resolveSettings(this.h.config, {}).fenceWindow;
    const out = [
      budgetStatus(
        'global',
        { limit: this.h.config.globalMaxFencesPerWindow, windowMs: globalWindow },
        b.used('global', globalWindow),
        b.haltedReason('global'),
      ),
    ];
    for (const p of this.h.inventory.allPartitions()) {
      if (!this.h.partitions.has(p.id)) continue;
      const s = this.h.resources.settingsOf({ ref: { type: '', id: '' }, partition: p.id });
      out.push(
        budgetStatus(
          p.id,
          { limit: s.maxFencesPerWindow, windowMs: s.fenceWindow },
          b.used(p.id, s.fenceWindow),
          b.haltedReason(p.id),
        ),
      );
    }
    return out;
  }

  /** Sets or clears the operator's maintenance flag of a resource, audited (docs/behaviour.md#operator-actions). */
  async setMaintenance(ref: ResourceRef, on: boolean, actor: Actor): Promise<void> {
    checkActor(actor);
    if (typeof on !== 'boolean') throw new InvalidRequestError('maintenance: `on` must be a boolean');
    const key = resourceKey(ref);
    const spec = this.h.inventory.resource(ref);
    if (!spec) throw new NotFoundError('resource', key);
    if (!this.h.resources.view(key)) throw this.notOwner(spec.partition);
    const mark = on ? { by: actor.by, at: this.h.clock.now(), ...reasonOf(actor) } : undefined;
    await this.h.resources.setOperatorMaintenance(key, mark, actor.by).catch((err: unknown) => {
      // Several servers: the partition was lost while the step waited its turn — it is another server's now.
      const lost = err instanceof NotFoundError && this.h.owned && this.h.inventory.resource(ref);
      throw lost ? this.notOwner(spec.partition) : err;
    });
    this.audit(actor, on ? 'maintenance-on' : 'maintenance-off', key);
  }

  /**
   * The HA switch of a partition. With an actor it is the operator's: persisted in the partition's record (it wins
   * over the embedder's `haEnabled`, also after a restart) and audited. Without one it is the embedder's own switch:
   * the partition's `haEnabled` changes and an operator's persisted switch, if any, is dropped (the newer word wins).
   */
  async setHaEnabled(id: string, enabled: boolean, actor: Actor | undefined, embedder: Partition): Promise<Partition> {
    if (typeof enabled !== 'boolean') throw new InvalidRequestError('HA switch: `enabled` must be a boolean');
    if (actor) {
      checkActor(actor);
      this.checkSwitchable(id);
    }
    const override: HaOverride | undefined = actor && {
      enabled,
      by: actor.by,
      at: this.h.clock.now(),
      ...reasonOf(actor),
    };
    const had = this.h.partitions.record(id)?.haOverride ?? this.switchRecords.get(id)?.haOverride;
    if (actor || had) await this.writeOverride(id, override, enabled);
    const effective = withOverride({ ...embedder, haEnabled: enabled }, override);
    this.h.inventory.putPartition(effective);
    this.h.partitions.update(effective);
    this.h.reassessChildren(id);
    if (actor) this.audit(actor, enabled ? 'ha-enable' : 'ha-disable', id);
    return effective;
  }

  /** Lets held stop commands of `scope` go (`global` or a partition id); audited with an actor. */
  resumeFencing(scope: string, actor?: Actor): void {
    if (typeof scope !== 'string') throw new InvalidRequestError('fencing resume: `scope` must be a string');
    // A budget scope: `global`, or a partition whose resources the engine runs (here, or on another server).
    const elsewhere = scope !== 'global' && this.h.owned?.ownership.manages(scope) === true;
    const known = scope === 'global' || this.h.partitions.has(scope) || elsewhere;
    if (!known) throw new NotFoundError('fence budget scope', scope);
    if (actor) checkActor(actor);
    if (actor && elsewhere && !this.h.partitions.has(scope)) throw this.notOwner(scope);
    this.h.budget.resume(scope);
    if (actor) this.audit(actor, 'fencing-resume', scope);
  }

  private detailOf(spec: ResourceSpec): ResourceDetail {
    const facts = {
      power: this.powerOf(spec),
      observeOnly: isObserveOnly(this.h.config.observeOnly, this.h.inventory, spec.partition),
      now: this.h.clock.now(),
    };
    const view = this.h.resources.view(resourceKey(spec.ref));
    if (view) return resourceDetail(view, facts);
    return unownedDetail(spec, { ...facts, since: this.addedAt.get(spec.partition) ?? 0 });
  }

  private powerOf(spec: ResourceSpec): PowerState | undefined {
    const host = powerHostOf(spec);
    if (host === undefined || !this.h.power?.state) return undefined;
    try {
      return this.h.power.state(host);
    } catch {
      return undefined; // not registered (yet)
    }
  }

  private noRecordReason(p: Partition, unit: boolean): string {
    if (unit) {
      const owner = this.h.owned?.ownership.ownerOf(p.id);
      return owner === undefined ? 'not run by this server' : `run by server '${owner}'`;
    }
    return `no HA provider for partitions of kind '${p.kind}'`;
  }

  /**
   * Several servers: the operator's HA switch is written only by the partition's owner; a partition that is no
   * ownership unit (a zone or pod) is switched in every server's configuration instead.
   */
  private checkSwitchable(id: string): void {
    const ownership = this.h.owned?.ownership;
    if (!ownership) return;
    if (!ownership.manages(id))
      throw new InvalidRequestError(
        `partition '${id}' is not run by one server: with several servers, switch HA per cluster or in the configuration`,
      );
    if (!this.h.partitions.has(id)) throw this.notOwner(id);
  }

  private async writeOverride(id: string, override: HaOverride | undefined, enabled: boolean): Promise<void> {
    if (this.h.partitions.has(id)) {
      await this.h.partitions.setOverride(id, override, enabled);
      return;
    }
    if (this.h.owned?.ownership.manages(id)) return; // run elsewhere: its owner keeps its record
    const before = this.switchRecords.get(id) ?? (await this.h.store.loadPartitions()).find((p) => p.id === id);
    const next: PartitionRecord = before
      ? { ...before, version: before.version + 1, haOverride: override }
      : {
          id,
          state: 'NONE',
          version: 1,
          since: this.h.clock.now(),
          reason: 'holds the operator HA switch',
          haOverride: override,
        };
    if (!(await this.h.store.savePartition(next, before ? before.version : null)))
      throw new InvalidRequestError(`the record of partition '${id}' changed meanwhile; nothing written`);
    this.switchRecords.set(id, next);
  }

  private notOwner(partition: string): NotOwnerError {
    return new NotOwnerError(partition, this.h.owned?.ownership.ownerOf(partition));
  }

  private audit(actor: Actor, action: OperatorAction, target: string): void {
    this.h.emit({
      t: this.h.clock.now(),
      type: 'operator.action',
      by: actor.by,
      action,
      target,
      ...reasonOf(actor),
    });
  }
}

/** An actor must name who asked; a reason, when given, is text. */
function checkActor(actor: Actor): void {
  if (typeof actor?.by !== 'string' || actor.by.trim() === '')
    throw new InvalidRequestError('operator action: the actor must name who asked (`by`)');
  if (actor.reason !== undefined && typeof actor.reason !== 'string')
    throw new InvalidRequestError('operator action: `reason` must be text');
}

function reasonOf(actor: Actor): { reason?: string } {
  return actor.reason === undefined ? {} : { reason: actor.reason };
}
