import { HaError, resourceKey, type StateStore } from '@hafence/core';

/**
 * One arm or disarm the management server decided for a host (docs/behaviour.md#kvm-hosts,
 * #several-management-servers).
 */
export interface ArmRecord {
  /** Increases with every arm/disarm of the host; the agent echoes the one it last applied. */
  readonly gen: number;
  /** `true`: arm (HA enabled for the host); `false`: disarm. */
  readonly armed: boolean;
  /** When it was recorded (ms on the deciding server's clock; informative). */
  readonly at: number;
}

/**
 * Where arm/disarm decisions are recorded **before** they are sent (docs/behaviour.md#several-management-servers:
 * "stored before it is sent"). The lease proof trusts a heartbeat's `armed` only when it echoes the `gen` of the latest
 * record and that record is an arm: a disarm whose effect no heartbeat has shown yet voids the lease.
 *
 * An implementation shared by several management servers (a database) must make
 * `record` a compare-and-set: it rejects a `gen` not above the host's latest.
 */
export interface ArmRecords {
  /** Records `rec` as `host`'s latest arm/disarm; rejects (throws) a `gen` not above the latest. */
  record(host: string, rec: ArmRecord): Promise<void>;
  /** `host`'s latest recorded arm/disarm, or `undefined` when none is recorded. */
  latest(host: string): Promise<ArmRecord | undefined>;
}

/** A `gen` that is not above the host's latest recorded one. */
export class ArmGenConflictError extends HaError {
  /** `gen` was offered for `host` whose latest recorded gen is `latest`. */
  constructor(
    readonly host: string,
    readonly gen: number,
    readonly latest: number,
  ) {
    super(
      'HAF5104',
      `arm record for ${host}: armGen ${gen} is not a positive integer above the latest recorded ${latest}`,
    );
  }
}

/**
 * The default {@link ArmRecords}: in memory, per process. A restarted management server
 * starts with no records, so it proves no lease for a host until it has armed it itself
 * and a heartbeat echoes that arm (see `LeaseTracker`).
 */
export class MemoryArmRecords implements ArmRecords {
  private readonly records = new Map<string, ArmRecord>();

  async record(host: string, rec: ArmRecord): Promise<void> {
    const latest = this.records.get(host);
    if (!Number.isInteger(rec.gen) || rec.gen < 1) throw new ArmGenConflictError(host, rec.gen, latest?.gen ?? 0);
    if (latest && rec.gen <= latest.gen) throw new ArmGenConflictError(host, rec.gen, latest.gen);
    this.records.set(host, rec);
  }

  async latest(host: string): Promise<ArmRecord | undefined> {
    return this.records.get(host);
  }
}

/**
 * {@link ArmRecords} in hafence's `StateStore` (`recordArm` / `latestArm`, a compare-and-set
 * on the gen): the records survive a restart and are shared by every server on the same
 * database, so a restarted or new owner proves a lease from the arms recorded before it.
 * Hosts are recorded under their resource key (`host:<id>` for the KVM provider).
 */
export class StoreArmRecords implements ArmRecords {
  /** Records in `store` for resources of type `resourceType`. */
  constructor(
    private readonly store: Pick<StateStore, 'recordArm' | 'latestArm'>,
    private readonly resourceType = 'host',
  ) {}

  async record(host: string, rec: ArmRecord): Promise<void> {
    const key = resourceKey({ type: this.resourceType, id: host });
    if (!Number.isInteger(rec.gen) || rec.gen < 1) {
      throw new ArmGenConflictError(host, rec.gen, (await this.store.latestArm(key))?.armGen ?? 0);
    }
    const kind = rec.armed ? 'arm' : 'disarm';
    if (!(await this.store.recordArm({ resource: key, armGen: rec.gen, kind, at: rec.at }))) {
      throw new ArmGenConflictError(host, rec.gen, (await this.store.latestArm(key))?.armGen ?? 0);
    }
  }

  async latest(host: string): Promise<ArmRecord | undefined> {
    const r = await this.store.latestArm(resourceKey({ type: this.resourceType, id: host }));
    return r && { gen: r.armGen, armed: r.kind === 'arm', at: r.at };
  }
}
