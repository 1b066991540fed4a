import { z } from 'zod';
import { duration } from './duration.js';

const count = (min: number) => z.number().int().min(min);

/** Settings that may be overridden per zone, pod, cluster and host (SPEC §4). */
export const haSettingsSchema = z.strictObject({
  healthCheckInterval: duration.refine((v) => v >= 100, 'must be at least 100ms'),
  healthCheckTimeout: duration,
  activityCheckInterval: duration.refine((v) => v > 0, 'must be positive'),
  maxActivityCheckInterval: duration.refine((v) => v > 0, 'must be positive'),
  activityCheckTimeout: duration,
  inactiveChecksToRecover: count(1),
  maxActivityChecks: count(1),
  degradedRecheck: duration.refine((v) => v > 0, 'must be positive'),
  maxActivityCheckErrors: count(1),
  maxRecoveryAttempts: count(0),
  recoverTimeout: duration,
  recoverRetryDelay: duration,
  fenceTimeout: duration,
  leaseWaitMax: duration,
  powerOpTimeout: duration,
  powerOffVerifyTimeout: duration,
  powerReadsToUnknown: count(1),
  quietPeriod: duration,
  maxFencesPerWindow: count(0),
  fenceWindow: duration.refine((v) => v > 0, 'must be positive'),
  maxUnhealthyFraction: z.number().min(0).max(1),
  stormCooldown: duration,
});

/** Effective per-resource settings, all in milliseconds or counts. */
export type HaSettings = z.output<typeof haSettingsSchema>;

/** Defaults of SPEC §4. */
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
  recoverTimeout: 60_000,
  recoverRetryDelay: 30_000,
  fenceTimeout: 60_000,
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
const overrideMap = z.record(z.string(), overrides).default({});

/** Settings of the whole service, global only. */
const serviceSchema = z.strictObject({
  startupGrace: duration.default(300_000),
  globalMaxFencesPerWindow: count(0).default(10),
  selfDoubtMinSample: count(1).default(8),
  powerSyncInterval: duration.refine((v) => v >= 100, 'must be at least 100ms').default(30_000),
  powerSyncConcurrency: count(1).default(20),
  jitterFraction: z.number().min(0).max(0.5).default(0.1),
  seed: z.number().int().default(1),
  concurrency: z.strictObject({
    health: count(1).default(50),
    activity: count(1).default(25),
    recover: count(1).default(10),
    fence: count(1).default(10),
  }).prefault({}),
  maxQueued: count(1).default(200_000),
  defaultPowerDrivers: z.array(z.string().min(1)).default([]),
});

/**
 * The one configuration schema (SPEC §9): global HA settings, then per-zone, pod,
 * cluster and host overrides (keyed by id), plus service-wide settings.
 */
export const haConfigSchema = serviceSchema.extend({
  defaults: overrides.default({}),
  zones: overrideMap,
  pods: overrideMap,
  clusters: overrideMap,
  hosts: overrideMap,
}).superRefine((cfg, ctx) => {
  // Cross-field rule, checked for the global settings and for every override on top of them.
  const scopes: Array<[PropertyKey[], Partial<HaSettings>]> = [[['defaults'], {}]];
  for (const kind of ['zones', 'pods', 'clusters', 'hosts'] as const) {
    for (const [id, o] of Object.entries(cfg[kind])) scopes.push([[kind, id], o]);
  }
  for (const [path, override] of scopes) {
    const merged = { ...DEFAULT_SETTINGS, ...cfg.defaults, ...override };
    if (merged.maxActivityCheckInterval < merged.activityCheckInterval) {
      ctx.addIssue({
        code: 'custom', path: [...path, 'maxActivityCheckInterval'], params: { value: merged.maxActivityCheckInterval },
        message: `must be at least activityCheckInterval (${merged.activityCheckInterval} ms)`,
      });
    }
  }
});

/** Configuration as written by a user (durations may be strings). */
export type HaConfigOptions = z.input<typeof haConfigSchema>;

/** Validated configuration with defaults filled in. */
export type HaConfig = z.output<typeof haConfigSchema>;
