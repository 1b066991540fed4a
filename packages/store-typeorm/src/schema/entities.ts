import 'reflect-metadata';
import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

// The tables as typeorm entities. The store writes them with plain SQL (every write is a
// compare-and-set or a fenced statement, which the repository API cannot express); the
// schema itself comes from the migrations, never from `synchronize`. Times the framework
// supplies are `double precision` milliseconds of the injected clock; `*_db_at` columns are
// the database's own timestamps, informative only (docs/behaviour.md#several-servers).

/** A resource's HA record: the whole record as JSON, with its key, partition and version as columns. */
@Entity('resources')
export class ResourceRow {
  /** Resource key. */
  @PrimaryColumn({ type: 'varchar', length: 512 }) key!: string;
  /** Partition the resource belongs to. */
  @Index('resources_partition') @Column({ type: 'varchar', length: 512 }) partition!: string;
  /** Compare-and-set version. */
  @Column({ type: 'integer' }) version!: number;
  /** The `ResourceRecord` as JSON. */
  @Column({ type: 'text' }) json!: string;
}

/** A partition's HA record. */
@Entity('partitions')
export class PartitionRow {
  /** Partition id. */
  @PrimaryColumn({ type: 'varchar', length: 512 }) id!: string;
  /** Compare-and-set version. */
  @Column({ type: 'integer' }) version!: number;
  /** The `PartitionRecord` as JSON. */
  @Column({ type: 'text' }) json!: string;
}

/** One stop command sent (the fence budget counts these). */
@Entity('fence_log')
@Index('fence_log_partition_at', ['partition', 'at'])
export class FenceLogRow {
  /** Row id. */
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  /** When, on the deciding server's clock. */
  @Index('fence_log_at') @Column({ type: 'double precision' }) at!: number;
  /** Partition of the resource. */
  @Column({ type: 'varchar', length: 512 }) partition!: string;
  /** Resource key. */
  @Column({ type: 'varchar', length: 512 }) resource!: string;
  /** The stop command. */
  @Column({ type: 'varchar', length: 32 }) command!: string;
  /** Failure episode, when any. */
  @Column({ type: 'integer', nullable: true }) episode!: number | null;
  /** The database's own time of the insert (informative). */
  @CreateDateColumn({ name: 'recorded_db_at' }) recordedDbAt!: Date;
}

/** A stop command's intent, committed before the command is sent. */
@Entity('intents')
export class IntentRow {
  /** Resource key. */
  @PrimaryColumn({ type: 'varchar', length: 512 }) resource!: string;
  /** The stop command. */
  @Column({ type: 'varchar', length: 32 }) command!: string;
  /** When, on the deciding server's clock. */
  @Column({ type: 'double precision' }) at!: number;
}

/** The latest arm or disarm of a host agent's self-fence. */
@Entity('arm_records')
export class ArmRow {
  /** Resource key. */
  @PrimaryColumn({ type: 'varchar', length: 512 }) resource!: string;
  /** Generation; only grows. */
  @Column({ name: 'arm_gen', type: 'integer' }) armGen!: number;
  /** `arm` or `disarm`. */
  @Column({ type: 'varchar', length: 16 }) kind!: string;
  /** When, on the deciding server's clock. */
  @Column({ type: 'double precision' }) at!: number;
}

/**
 * One event of the history. An event a state write caused is also an outbox row (docs/behaviour.md#persistence) until
 * its delivery is recorded.
 */
@Entity('events')
@Index('events_outbox', ['outboxPartition', 'id'])
export class EventRow {
  /** Increasing id (BIGINT: the history outlives 2^31 events). */
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  /** Event time. */
  @Index('events_t') @Column({ type: 'double precision' }) t!: number;
  /** Event type. */
  @Column({ type: 'varchar', length: 128 }) type!: string;
  /** The whole event as JSON. */
  @Column({ type: 'text' }) json!: string;
  /** The partition of an outbox row not yet delivered; NULL once delivered, and for an event no state write caused. */
  @Column({ name: 'outbox_partition', type: 'varchar', length: 512, nullable: true }) outboxPartition!: string | null;
}

/** A management server's membership row. */
@Entity('members')
export class MemberRow {
  /** Run id (fresh per process start). */
  @PrimaryColumn({ name: 'run_id', type: 'varchar', length: 256 }) runId!: string;
  /** Management server id. */
  @Column({ name: 'ms_id', type: 'varchar', length: 256 }) msId!: string;
  /** Renewal sequence. */
  @Column({ name: 'renew_seq', type: 'integer' }) renewSeq!: number;
  /** Reach scores as JSON, when published. */
  @Column({ type: 'text', nullable: true }) reach!: string | null;
  /** The database's own time of the last renewal (informative). */
  @UpdateDateColumn({ name: 'renewed_db_at' }) renewedDbAt!: Date;
}

/** A partition's ownership lease; `epoch` is the fencing token. */
@Entity('partition_owner')
export class PartitionOwnerRow {
  /** Partition id. */
  @PrimaryColumn({ type: 'varchar', length: 512 }) partition!: string;
  /** Holder's management server id. */
  @Column({ name: 'ms_id', type: 'varchar', length: 256 }) msId!: string;
  /** Holder's run id; empty when released. */
  @Column({ name: 'run_id', type: 'varchar', length: 256 }) runId!: string;
  /** Fencing token; only grows. */
  @Column({ type: 'integer' }) epoch!: number;
  /** Renewals of this lease. */
  @Column({ name: 'renew_seq', type: 'integer' }) renewSeq!: number;
  /** The holder's own lease length. */
  @Column({ name: 'lease_ttl_ms', type: 'double precision' }) leaseTtlMs!: number;
  /** Fenced writes so far. */
  @Column({ name: 'write_seq', type: 'integer' }) writeSeq!: number;
}

/** Rows the fence budget locks (`SELECT … FOR UPDATE` on PostgreSQL): `global` and `partition:<id>`. */
@Entity('budget_lock')
export class BudgetLockRow {
  /** Lock scope. */
  @PrimaryColumn({ type: 'varchar', length: 600 }) scope!: string;
}

/** Every entity of the store, for the data source. */
export const STORE_ENTITIES = [
  ResourceRow,
  PartitionRow,
  FenceLogRow,
  IntentRow,
  ArmRow,
  EventRow,
  MemberRow,
  PartitionOwnerRow,
  BudgetLockRow,
] as const;
