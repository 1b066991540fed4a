import { z } from 'zod';
import { duration } from './duration.js';
import { hasControlChars, isReservedKey } from './safe-values.js';
import { brokenRules } from './settings-rules.js';

/** The longest duration any setting may have. */
const MAX_DURATION = 86_400_000;
/** The largest count any setting may have, unless it says otherwise. */
const MAX_COUNT = 1000;

const count = (min: number, max = MAX_COUNT) => z.number().int().min(min).max(max);
/** A duration of at least `min` ms (1: more than zero) and at most a day. */
const span = (min: number) =>
  duration
    .refine((v) => v >= min, min === 1 ? 'must be more than 0' : `must be at least ${min}ms`)
    .refine((v) => v <= MAX_DURATION, 'must be at most 24h');
/** A timeout, a period or an interval: more than zero, at most a day. */
const positive = span(1);
/** A delay or grace that may be zero, at most a day. */
const delay = span(0);

/**
 * Settings that may be overridden per zone, pod, cluster and host (docs/behaviour.md#scheduling-and-guards). Every
 * value has a range; the rules between values (quietPeriod ≥ healthCheckInterval, the recoverTimeout and fenceTimeout
 * floors, …) are checked on the effective settings of every scope by {@link haConfigSchema}.
 */
export const haSettingsSchema = z.strictObject({
  healthCheckInterval: span(100),
  healthCheckTimeout: positive,
  activityCheckInterval: positive,
  maxActivityCheckInterval: positive,
  activityCheckTimeout: positive,
  inactiveChecksToRecover: count(1),
  maxActivityChecks: count(1),
  degradedRecheck: positive,
  maxActivityCheckErrors: count(1),
  /** 0: fence at once, without trying to recover. */
  maxRecoveryAttempts: count(0),
  recoverTimeout: positive,
  recoverRetryDelay: delay,
  fenceTimeout: positive,
  leaseWaitMax: positive,
  powerOpTimeout: positive,
  powerOffVerifyTimeout: positive,
  powerReadsToUnknown: count(1),
  /** At least `healthCheckInterval` (checked per scope). */
  quietPeriod: positive,
  /** 0: this scope never sends a stop command. */
  maxFencesPerWindow: count(0),
  fenceWindow: positive,
  maxUnhealthyFraction: z.number().gt(0).max(1),
  stormCooldown: delay,
});

/** Effective per-resource settings, all in milliseconds or counts. */
export type HaSettings = z.output<typeof haSettingsSchema>;

/** Defaults of docs/behaviour.md#scheduling-and-guards. */
export const DEFAULT_SETTINGS: HaSettings = {
  healthCheckInterval: 10_000,
  healthCheckTimeout: 10_000,
  activityCheckInterval: 10_000,
  maxActivityCheckInterval: 250_000,
  activityCheckTimeout: 60_000,
  inactiveChecksToRecover: 2,
  maxActivityChecks: 5,
  degradedRecheck: 300_000,
  maxActivityCheckErrors: 5,
  maxRecoveryAttempts: 2,
  recoverTimeout: 120_000,
  recoverRetryDelay: 30_000,
  fenceTimeout: 90_000,
  leaseWaitMax: 300_000,
  powerOpTimeout: 20_000,
  powerOffVerifyTimeout: 20_000,
  powerReadsToUnknown: 3,
  quietPeriod: 120_000,
  maxFencesPerWindow: 3,
  fenceWindow: 3_600_000,
  maxUnhealthyFraction: 0.5,
  stormCooldown: 300_000,
};

const overrides = haSettingsSchema.partial();
/** The id of a zone, pod, cluster or host an override names: no control character, no prototype slot. */
const overrideId = z
  .string()
  .min(1)
  .refine((k) => !hasControlChars(k), 'must not contain control characters')
  .refine((k) => !isReservedKey(k), 'is a reserved name (__proto__, constructor, prototype): not an id');
const overrideMap = z.record(overrideId, overrides).default({});

/**
 * Leases of several management servers (docs/behaviour.md#several-servers), on each server's own clock:
 * `leaseMargin` < `leaseTtl`, and `renewInterval` < `leaseTtl − leaseMargin` (a holder renews before its deadline).
 */
const serversSchema = z
  .strictObject({
    leaseTtl: span(1_000).default(30_000),
    leaseMargin: delay.default(10_000),
    renewInterval: span(100).default(5_000),
    /** A challenger's wait beyond `leaseTtl`; default the partition's largest `powerOpTimeout`. */
    actBound: delay.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.leaseMargin >= s.leaseTtl)
      ctx.addIssue({ code: 'custom', path: ['leaseMargin'], message: 'must be less than leaseTtl' });
    else if (s.renewInterval >= s.leaseTtl - s.leaseMargin)
      ctx.addIssue({ code: 'custom', path: ['renewInterval'], message: 'must be less than leaseTtl − leaseMargin' });
  })
  .prefault({});

/**
 * The event history in the store (docs/behaviour.md#persistence): events older than
 * `retentionDays` or beyond the newest `maxRows` are pruned every `pruneInterval`.
 */
const eventHistorySchema = z
  .strictObject({
    retentionDays: z.number().int().min(1).max(3650).default(30),
    maxRows: count(1_000, 100_000_000).default(1_000_000),
    pruneInterval: span(1_000).default(3_600_000),
  })
  .prefault({});

/** Settings of the whole service, global only. */
const serviceSchema = z.strictObject({
  /**
   * Observe-only (docs/observe-only.md): checks, decisions and events as usual, but no power command and no
   * arm/disarm of a self-fence is sent; each command is a `would.power.action` event instead.
   */
  observeOnly: z.boolean().default(false),
  startupGrace: delay.default(300_000),
  globalMaxFencesPerWindow: count(0).default(10),
  selfDoubtMinSample: count(1).default(8),
  powerSyncInterval: span(100).default(30_000),
  powerSyncConcurrency: count(1).default(20),
  jitterFraction: z.number().min(0).max(0.5).default(0.1),
  seed: z.number().int().default(1),
  concurrency: z
    .strictObject({
      health: count(1, 10_000).default(50),
      activity: count(1, 10_000).default(25),
      recover: count(1, 10_000).default(10),
      fence: count(1, 10_000).default(10),
    })
    .prefault({}),
  maxQueued: count(1, 10_000_000).default(200_000),
  defaultPowerDrivers: z.array(z.string().min(1)).default([]),
  servers: serversSchema,
  eventHistory: eventHistorySchema,
});

/**
 * The one configuration schema (docs/behaviour.md#configuration): global HA settings, then per-zone, pod,
 * cluster and host overrides (keyed by id), plus service-wide settings.
 */
export const haConfigSchema = serviceSchema
  .extend({
    defaults: overrides.default({}),
    zones: overrideMap,
    pods: overrideMap,
    clusters: overrideMap,
    hosts: overrideMap,
  })
  .superRefine((cfg, ctx) => {
    // Cross-field rules (docs/behaviour.md#scheduling-and-guards), checked for the global settings
    // and for every override
    // on top of them; the lineage of real partitions is checked by checkOverrideTargets.
    const scopes: Array<[PropertyKey[], Partial<HaSettings>]> = [[['defaults'], cfg.defaults]];
    for (const kind of ['zones', 'pods', 'clusters', 'hosts'] as const) {
      for (const [id, o] of Object.entries(cfg[kind])) scopes.push([[kind, id], o]);
    }
    // A field already out of its own range is reported once, for that: no rule that reads it.
    const failed = new Set(ctx.issues.map((i) => (i.path ?? []).join('.')));
    // A challenger's extra wait must cover the longest power command of any scope (behaviour.md#several-servers).
    const act = cfg.servers.actBound;
    if (act !== undefined) {
      const longest = Math.max(
        ...scopes.map(([, o]) => o.powerOpTimeout ?? cfg.defaults.powerOpTimeout ?? DEFAULT_SETTINGS.powerOpTimeout),
      );
      if (act < longest)
        ctx.addIssue({
          code: 'custom',
          path: ['servers', 'actBound'],
          params: { value: act },
          message: `must be at least the longest powerOpTimeout (${longest} ms): a command of the old owner may still land`,
        });
    }
    for (const [path, override] of scopes) {
      const merged = { ...DEFAULT_SETTINGS, ...cfg.defaults, ...override };
      const inRange = (f: string) => !failed.has([...path, f].join('.')) && !failed.has(['defaults', f].join('.'));
      for (const rule of brokenRules(merged, override).filter((r) => r.reads.every(inRange))) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, rule.field],
          params: { value: merged[rule.field] },
          message: rule.rule(merged),
        });
      }
    }
  });

/** Configuration as written by a user (durations may be strings). */
export type HaConfigOptions = z.input<typeof haConfigSchema>;

/** Validated configuration with defaults filled in. */
export type HaConfig = z.output<typeof haConfigSchema>;
