import { HaError } from '@hafence/core';

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
