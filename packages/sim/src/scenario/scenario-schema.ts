import { parseDuration, RESOURCE_STATES } from '@hafence/core';
import { z } from 'zod';

/** Parses `90s`, `5m`, and compounds like `6m30s` or `1h15m`; NaN when malformed. */
export function parseScenarioDuration(value: string | number): number {
  if (typeof value === 'number') return value;
  if (value.length > 64) return Number.NaN; // no duration is that long; the regex must not chew megabytes
  const parts = value.trim().match(/\d+(?:\.\d+)?\s*(?:ms|s|m|h)/g);
  if (!parts || parts.join('').replace(/\s/g, '') !== value.replace(/\s/g, '')) return Number.NaN;
  return parts.reduce((sum, p) => sum + parseDuration(p), 0);
}

/** A duration: ms as a number, or a string with `ms`/`s`/`m`/`h` suffixes (`6m30s`). */
const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseScenarioDuration(v);
  if (!Number.isFinite(ms) || ms < 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration like 500ms, 10s, 5m, 2h or a number of ms' });
    return z.NEVER;
  }
  return Math.round(ms);
});

const DAY = 86_400_000;
/**
 * A simulation knob (docs/behaviour.md#scheduling-and-guards: every value is bounded): at least `min` ms (1: more than
 * 0), at most a day.
 */
const knob = (min: number) =>
  duration
    .refine((v) => v >= min, min === 1 ? 'must be more than 0' : `must be at least ${min}ms`)
    .refine((v) => v <= DAY, 'must be at most 24h');

const hostId = z.string().regex(/^h[1-9]\d*$/, 'must be a host id h1..hN');
const at = duration;
const hostFaults = [
  'crash',
  'agent-down',
  'agent-up',
  'agent-crash',
  'agent-start',
  'vms-idle',
  'vms-busy',
  'isolate',
  'rejoin',
  'power-off',
  'power-on',
  'power-loss',
  'power-restore',
  'bmc-down',
  'bmc-up',
  'bmc-auth-broken',
  'bmc-auth-fixed',
  'bmc-fast',
  'maintenance',
  'maintenance-end',
] as const;

const hostStep = z
  .strictObject({
    at,
    do: z.enum(hostFaults),
    host: hostId,
    stuck: z.boolean().optional(),
    /**
     * Extension: `next-arm-request` cuts the host off right after its agent has applied the
     * next arm/disarm request, before it can write a heartbeat saying so (at ms precision,
     * whatever the engine's timing).
     */
    when: z.enum(['now', 'next-arm-request']).optional(),
  })
  .refine((s) => s.stuck === undefined || s.do === 'crash', { path: ['stuck'], message: 'only a crash can be stuck' })
  .refine((s) => s.when === undefined || s.do === 'isolate', {
    path: ['when'],
    message: 'only an isolate can wait for an arm request',
  });
const slowStep = z.strictObject({ at, do: z.literal('bmc-slow'), host: hostId, delay: knob(0) });
const storageStep = z.strictObject({
  at,
  do: z.enum(['storage-down', 'storage-up']),
  hosts: z.array(hostId).optional(),
  /** Extension: `hang` makes reads and writes hang instead of failing (a hung NFS server). */
  mode: z.enum(['down', 'hang']).optional(),
});
const clusterStep = z.strictObject({ at, do: z.enum(['ha-disable', 'ha-enable']), cluster: z.string().default('c1') });
const msStep = z.strictObject({
  at,
  do: z.enum(['ms-crash', 'ms-start', 'ms-isolate', 'ms-rejoin']),
  ms: z.string().regex(/^ms[1-9]\d*$/, 'must be ms1..msN'),
});

/** One timed fault of a scenario (docs/behaviour.md#scenarios). */
export const scenarioStepSchema = z.discriminatedUnion('do', [hostStep, slowStep, storageStep, clusterStep, msStep]);

/** KVM simulation knobs (docs/behaviour.md#scheduling-and-guards, KVM row). */
const kvmSchema = z
  .strictObject({
    bootTime: knob(0).default(90_000),
    heartbeatInterval: knob(1).default(10_000),
    activityWindow: knob(1).default(20_000),
    selfFenceAfter: knob(1).default(60_000),
    /** 0 is allowed: a lease with no margin (scenario lease-margin-zero). */
    leaseMargin: knob(0).default(30_000),
    replyTimeout: knob(1).default(30_000),
    /** What the watchdog does to a self-fencing host: `reset` (reboot) or `off`. */
    watchdog: z.enum(['reset', 'off']).default('reset'),
  })
  .refine((k) => k.activityWindow >= 2 * k.heartbeatInterval, {
    path: ['activityWindow'],
    message: 'must be at least 2 × heartbeatInterval',
  });

const stateName = z.enum(RESOURCE_STATES);

/**
 * Extension: outcomes a test asserts besides the golden log (the runner ignores them).
 * `released` is the exact set of hosts released (each exactly once); `stops` the exact
 * number of stop commands the engine sent; `never` states a host must never enter.
 */
export const scenarioExpectSchema = z.strictObject({
  released: z.array(hostId).optional(),
  final: z.record(hostId, stateName).optional(),
  stops: z.number().int().min(0).optional(),
  never: z.record(hostId, z.array(stateName)).optional(),
});

/**
 * The scenario format of docs/behaviour.md#scenarios. `config` is the service's configuration (validated
 * by core's schema, and its overrides against the scenario's z1/p1/c1/h1..hN, by
 * {@link parseScenario}); `kvm` tunes the simulated agents.
 */
export const scenarioSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    hosts: z.number().int().min(1).max(64),
    vmsPerHost: z.number().int().min(0).max(100).default(2),
    managementServers: z.number().int().min(1).max(8).default(1),
    /** Extension: clusters c1..cN under pod p1, the hosts split among them in blocks (h1.. in c1 first). */
    clusters: z.number().int().min(1).max(8).default(1),
    seed: z.number().int().default(42),
    config: z.record(z.string(), z.unknown()).default({}),
    kvm: kvmSchema.prefault({}),
    steps: z.array(scenarioStepSchema).default([]),
    run: duration.refine((v) => v > 0 && v <= 7 * 24 * 3_600_000, 'must be positive and at most 7 days'),
    expect: scenarioExpectSchema.optional(),
  })
  .superRefine((s, ctx) => {
    const noHost = (path: (string | number)[], h: string) => {
      if (Number(h.slice(1)) > s.hosts)
        ctx.addIssue({ code: 'custom', path, input: h, message: `no such host: the scenario has h1..h${s.hosts}` });
    };
    s.steps.forEach((step, i) => {
      if (step.at > s.run)
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'at'],
          input: step.at,
          message: `must not be after run (${s.run} ms)`,
        });
      const hosts = 'host' in step ? [step.host] : 'hosts' in step ? (step.hosts ?? []) : [];
      for (const h of hosts) noHost(['steps', i, 'host' in step ? 'host' : 'hosts'], h);
      if ('cluster' in step && !(/^c[1-9]\d*$/.test(step.cluster) && Number(step.cluster.slice(1)) <= s.clusters))
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'cluster'],
          input: step.cluster,
          message:
            s.clusters === 1
              ? 'no such cluster: the scenario has c1'
              : `no such cluster: the scenario has c1..c${s.clusters}`,
        });
      if ('ms' in step && Number(step.ms.slice(2)) > s.managementServers) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'ms'],
          input: step.ms,
          message: `no such management server: the scenario has ms1..ms${s.managementServers}`,
        });
      }
    });
    for (const h of s.expect?.released ?? []) noHost(['expect', 'released'], h);
    for (const key of ['final', 'never'] as const)
      for (const h of Object.keys(s.expect?.[key] ?? {})) noHost(['expect', key, h], h);
  });

/** A scenario as written (durations may be strings). */
export type ScenarioOptions = z.input<typeof scenarioSchema>;

/** A validated scenario: every duration in ms, defaults filled in. */
export type Scenario = z.output<typeof scenarioSchema>;

/** A validated scenario step. */
export type ScenarioStep = z.output<typeof scenarioStepSchema>;

/** Expected outcomes of a scenario (see {@link scenarioExpectSchema}). */
export type ScenarioExpect = z.output<typeof scenarioExpectSchema>;
