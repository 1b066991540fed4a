import { randomUUID } from 'node:crypto';
import type { HaConfig } from '../config/schema.js';
import type { HaEvent } from '../events/ha-event.js';
import { FencedStateStore } from '../cluster/fenced-store.js';
import { Ownership } from '../cluster/ownership.js';
import type { Clock } from '../spi/clock.js';
import type { HAProvider } from '../spi/ha-provider.js';
import type { PowerState } from '../spi/power-driver.js';
import type { Logger } from '../spi/logger.js';
import { resourceKey } from '../spi/resource.js';
import type { CoordinationStore, PartitionLease, StateStore } from '../spi/state-store.js';
import type { MemoryInventory } from './memory-inventory.js';
import { delay } from '../util/delay.js';
import type { PartitionEngine } from './partition-engine.js';
import type { ResourceEngine } from './resource-engine.js';

/** Options of `HaServiceOptions.ownership` (docs/behaviour.md#several-servers). */
export interface ServiceOwnershipOptions {
  /** Membership rows and partition leases: the same database as `store`. */
  readonly coordination: CoordinationStore;
  /** This server's stable id. */
  readonly msId: string;
  /** Fresh per process start (default a random UUID). */
  readonly runId?: string;
  /**
   * The clock leases are measured on (default the service's clock): a monotonic one (SPEC §7), which a step
   * of the wall clock does not move. A server whose service clock is the system clock passes one.
   */
  readonly clock?: Clock;
}

/** What {@link OwnedPartitions} reaches of its service (the engines exist only after the store). */
export interface OwnedPartitionsHost {
  readonly clock: Clock;
  readonly config: HaConfig;
  readonly logger?: Logger;
  readonly inventory: MemoryInventory;
  readonly providers: ReadonlyMap<string, HAProvider>;
  resources(): ResourceEngine;
  partitions(): PartitionEngine;
  emit(event: HaEvent): void;
  /** Emits the partition's outbox rows whose delivery was not recorded (docs/behaviour.md#persistence), in order. */
  relay(partition: string): Promise<number>;
  stopping(): boolean;
  /** This server's last power read of a controller, when its power backend tells (reach scores). */
  powerState?(host: string): PowerState | undefined;
}

/**
 * The service's side of several servers (docs/behaviour.md#several-servers): which partitions are ownership units,
 * the fenced store, and what happens when this server takes or loses a partition — its records loaded afresh and
 * resumed (grace from then), or every member dropped at once with its record kept.
 */
export class OwnedPartitions {
  /** This server's leases. */
  readonly ownership: Ownership;
  /** The service's store: every write for an owned partition fenced. */
  readonly store: StateStore;
  private readonly units = new Map<string, HAProvider>();
  private readonly acquiredAt = new Map<string, number>();
  private taking: Promise<void> = Promise.resolve();

  /** Builds the ownership of one server run over `base` (the shared database). */
  constructor(
    private readonly h: OwnedPartitionsHost,
    o: ServiceOwnershipOptions,
    base: StateStore,
  ) {
    this.ownership = new Ownership({
      coordination: o.coordination,
      clock: o.clock ?? h.clock,
      msId: o.msId,
      runId: o.runId ?? randomUUID(),
      ...h.config.servers,
      actBound: (p) => this.actBound(p),
      logger: h.logger,
      listener: {
        acquired: (lease) => {
          this.taking = this.taking
            .then(() => this.take(lease))
            .catch((err: unknown) =>
              h.logger?.error('partition not taken', { partition: lease.partition, error: String(err) }),
            );
        },
        lost: (partition, epoch, reason) => this.drop(partition, epoch, reason),
        outreached: (partition, _to, reason) => {
          this.giveUp([partition], reason, 0).catch((err: unknown) =>
            h.logger?.error('partition not handed over', { partition, error: String(err) }),
          );
        },
      },
      reach: (p) => this.reach(p),
    });
    this.store = new FencedStateStore(base, this.ownership, (key) => this.partitionOfKey(key));
  }

  /** `partition` (with its provider) is an ownership unit: it runs here once this server holds its lease. */
  manage(partition: string, provider: HAProvider): void {
    this.units.set(partition, provider);
    this.ownership.manage(partition);
  }

  /** `partition` was removed: its lease, if held, is released. */
  async unmanage(partition: string): Promise<void> {
    this.units.delete(partition);
    await this.ownership.unmanage(partition);
  }

  /** Whether resources of `partition` may run here now (it is held and attached). */
  running(partition: string): boolean {
    return this.h.partitions().has(partition) && this.ownership.holds(partition);
  }

  /** When this server took `partition` (its startup grace runs from then). */
  actingSince(partition: string): number | undefined {
    return this.acquiredAt.get(partition);
  }

  /** Why no command may be sent for `partition` now, or undefined. */
  mayAct(partition: string): string | undefined {
    return this.units.has(partition) ? this.ownership.gate(partition) : undefined;
  }

  /** How long a challenger waits beyond `leaseTtl`: the partition's longest power command. */
  private actBound(partition: string): number {
    const configured = this.h.config.servers.actBound;
    if (configured !== undefined) return configured;
    const resources = this.h.resources();
    const own = resources.settingsOf({ ref: { type: '', id: '' }, partition }).powerOpTimeout;
    return Math.max(own, ...this.h.inventory.resourcesIn(partition).map((s) => resources.settingsOf(s).powerOpTimeout));
  }

  /** The partition of a resource key (fenced writes name resources by key). */
  private partitionOfKey(key: string): string | undefined {
    const sep = key.indexOf(':');
    return this.h.inventory.resource({ type: key.slice(0, sep), id: key.slice(sep + 1) })?.partition;
  }

  /**
   * This server took `lease`: relay the partition's undelivered events, load its records afresh and resume them; its
   * grace starts now.
   */
  private async take(lease: PartitionLease): Promise<void> {
    const id = lease.partition;
    const provider = this.units.get(id);
    const partition = this.h.inventory.partition(id);
    const still = () => this.ownership.holds(id, lease.epoch) && !this.h.stopping();
    if (!provider || !partition || !still()) return;
    const resources = this.h.resources();
    this.acquiredAt.set(id, this.h.clock.now());
    this.h.emit({ t: this.h.clock.now(), type: 'partition.acquired', partition: id, epoch: lease.epoch });
    // What the previous owner committed and may not have delivered goes out again before our own new events.
    await this.h.relay(id);
    if (!still()) return this.abandon(id, 'lease lost while taking the partition');
    // Members first: the partition's first assessment must see them all, not an empty partition.
    const intents = new Set((await this.store.listIntents()).map((i) => i.resource)); // one read for all
    for (const spec of this.h.inventory.resourcesIn(id)) {
      const persisted = await this.store.getResource(resourceKey(spec.ref));
      const typed = this.h.providers.get(spec.ref.type);
      if (!still()) return this.abandon(id, 'lease lost while taking the partition');
      const key = resourceKey(spec.ref);
      if (typed && !resources.view(key)) await resources.attach(spec, typed, persisted, intents.has(key));
    }
    const record = (await this.store.loadPartitions()).find((p) => p.id === id);
    if (!still()) return this.abandon(id, 'lease lost while taking the partition');
    await this.h.partitions().attach(partition, provider, record);
  }

  /**
   * Self-doubt (docs/behaviour.md#several-servers): this server's own checks fail too widely — most likely its own
   * network — so it stops its work in every partition it holds and hands them over; for two lease lengths it takes
   * none back while another server is live. Alone, it keeps them (its self-doubt still stops every action).
   */
  async handOver(reason: string): Promise<void> {
    if (!this.ownership.othersLive()) return; // alone: nobody to hand to (self-doubt still stops every action)
    await this.giveUp(this.ownership.heldPartitions(), reason, 2 * this.h.config.servers.leaseTtl);
  }

  /**
   * Ends the work in `partitions`, waits their act bound (a command already on its way lands
   * meanwhile; the leases are renewed), then releases them so a taker may act at once.
   */
  private async giveUp(partitions: readonly string[], reason: string, holdOffMs: number): Promise<void> {
    for (const p of partitions) this.abandon(p, reason);
    const settle = Math.max(0, ...partitions.map((p) => this.actBound(p)));
    await delay(this.h.clock, settle).catch(() => undefined);
    const given = await this.ownership.handOver(partitions, holdOffMs);
    for (const partition of given) {
      this.h.emit({ t: this.h.clock.now(), type: 'partition.handed-over', partition, reason });
    }
  }

  /**
   * This server's reach of `partition`'s controllers: the share of its bound resources whose
   * power this server last read as ON or OFF (not UNKNOWN); undefined without power reads.
   */
  private reach(partition: string): number | undefined {
    const read = this.h.powerState;
    if (!read) return undefined;
    const hosts = this.h.inventory
      .resourcesIn(partition)
      .map((spec) => spec.power?.target.host)
      .filter((host): host is string => host !== undefined);
    if (hosts.length === 0) return undefined;
    const known = hosts.filter((host) => {
      try {
        const state = read(host);
        return state !== undefined && state !== 'UNKNOWN';
      } catch {
        return false; // not registered (yet): not reached
      }
    }).length;
    return known / hosts.length;
  }

  /** This server lost `partition`: nothing more is sent or written for it. */
  private drop(partition: string, epoch: number, reason: string): void {
    this.abandon(partition, reason);
    this.h.emit({ t: this.h.clock.now(), type: 'partition.lost', partition, epoch, reason });
  }

  private abandon(partition: string, reason: string): void {
    this.h.resources().abandon(partition, `lease lost: ${reason}`);
    this.h.partitions().detach(partition);
    this.acquiredAt.delete(partition);
  }
}
