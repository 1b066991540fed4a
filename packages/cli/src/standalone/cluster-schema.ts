import { haConfigSchema, parseDuration } from '@hafence/core';
import { CIPHER_SUITES } from '@hafence/power-ipmi/protocol';
import { addressRule, envNameRule, hasControlChars, isReservedKey } from '@hafence/core/internal';
import { z } from 'zod';
import { agentUrlRule, shownAgentUrl } from './agent-url.js';

const id = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be an id of letters, digits, . _ -')
  .refine((v) => !isReservedKey(v), 'is a reserved name (__proto__, constructor, prototype): not an id');

/**
 * Text that may reach a power script's stdin, argv or environment: no control character
 * (a fence agent keeps the last `action=` line: `admin\naction=off` is a power-off).
 */
const text = z
  .string()
  .min(1)
  .max(4096)
  .refine((v) => !hasControlChars(v), 'must not contain control characters (newline, NUL, escape…)');
/** A BMC address: a host name or an IP literal, nothing else. */
const address = z
  .string()
  .max(253)
  .superRefine((v, ctx) => {
    const rule = hasControlChars(v) ? 'must not contain control characters (newline, NUL, escape…)' : addressRule(v);
    if (rule) ctx.addIssue({ code: 'custom', message: rule });
  });
/** The variable that hands a custom script its password: never one a loader or shell acts on. */
const envName = z.string().superRefine((v, ctx) => {
  const rule = envNameRule(v);
  if (rule) ctx.addIssue({ code: 'custom', message: rule });
});

/** The longest duration of this file, as in `ha:` (docs/behaviour.md#scheduling-and-guards: every value is bounded). */
const MAX_DURATION = 86_400_000;

/** A duration: a number of ms or a string like `500ms`, `10s`, `5m`, `2h`; more than 0, at most 24h. */
const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = Math.round(parseDuration(v));
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_DURATION) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a positive duration of at most 24h like 500ms, 10s, 5m or a number of ms',
    });
    return z.NEVER;
  }
  return ms;
});

/** A store URL as it may be shown in an error: its password, if any, never. */
function shownUrl(v: string): string {
  return v.replace(/^([a-z]+:\/\/[^:/@]*):[^@]*@/i, '$1:[redacted]@');
}

/** `postgres://user@host[:port]/database` of the primary: no password inside (passwordEnv/passwordFile). */
const postgresUrl = z.string().superRefine((v, ctx) => {
  const fail = (message: string) => ctx.addIssue({ code: 'custom', message, params: { value: shownUrl(v) } });
  if (hasControlChars(v)) return fail('must not contain control characters');
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return fail('must be a URL like postgres://hafence@db1:5432/hafence');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return fail('must be a postgres:// URL');
  if (url.password !== '') return fail('must not contain the password: give passwordEnv or passwordFile');
  if (url.hostname === '') return fail('names no server');
  if (url.pathname.replace(/^\//, '') === '') return fail('names no database');
  if (url.search !== '' || url.hash !== '') return fail('must not carry ?options or #fragments');
});

/**
 * Where HA state lives: `sqlite:PATH` (one server; a relative path is relative to the
 * cluster file), or a PostgreSQL server shared by several (`url`, the password from an
 * environment variable or a mode-0600 file, never inline).
 */
const storeSchema = z.union([
  z.string().superRefine((v, ctx) => {
    const m = /^sqlite:(.+)$/.exec(v);
    let rule: string | undefined;
    if (v.startsWith('postgres:') || v.startsWith('postgresql:'))
      rule = 'a PostgreSQL store is written { url, passwordEnv | passwordFile }';
    else if (!m) rule = 'must be sqlite:PATH or { url: postgres://…, passwordEnv | passwordFile }';
    else if (hasControlChars(v)) rule = 'must not contain control characters';
    if (rule) ctx.addIssue({ code: 'custom', message: rule, params: { value: shownUrl(v) } });
  }),
  z
    .strictObject({
      url: postgresUrl,
      passwordEnv: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
        .optional(),
      passwordFile: text.optional(),
      poolSize: z.number().int().min(1).max(100).default(10),
    })
    .refine((s) => !(s.passwordEnv !== undefined && s.passwordFile !== undefined), {
      message: 'give at most one of passwordEnv, passwordFile',
      path: ['passwordEnv'],
    }),
]);

/**
 * Operator switches of a zone, pod or cluster: `enabled` and `haEnabled` default to on; `observeOnly` (default off)
 * makes the engine check and decide for it and everything inside it without sending any power command or arm/disarm
 * (docs/observe-only.md).
 */
const switches = {
  enabled: z.boolean().default(true),
  haEnabled: z.boolean().default(true),
  observeOnly: z.boolean().default(false),
};

/** The power drivers a cluster file may name in a chain. */
const POWER_DRIVER_NAMES = ['ipmi', 'redfish', 'script'] as const;

/**
 * The Redfish service of a BMC (used when its chain names `redfish`): its HTTPS port (`bmc.port` is IPMI's),
 * the system id when it manages several, and how its certificate is checked: verified against the system's CAs
 * by default, `caFile` for a private CA, `insecureTls` to accept a self-signed certificate (logged as a warning).
 */
const redfishSchema = z.strictObject({
  port: z.number().int().min(1).max(65535).default(443),
  systemId: text.optional(),
  caFile: text.optional(),
  insecureTls: z.boolean().optional(),
  /** Use HTTP Basic when the service has no session login. */
  basicAuth: z.boolean().optional(),
});

const bmcSchema = z
  .strictObject({
    address,
    port: z.number().int().min(1).max(65535).default(623),
    username: text,
    /** Environment variable holding the password. */
    passwordEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
      .optional(),
    /** File whose first line is the password (mode 0600: no access for group or others). */
    passwordFile: text.optional(),
    /** AES-256-GCM value (`v1:…`) made with `encryptSecret`; key from HAFENCE_SECRET_KEY or `power.secretKeyFile`. */
    passwordEncrypted: z.string().startsWith('v1:', 'must be a v1: value made by encryptSecret').optional(),
    /** One of the suites the IPMI driver speaks (17, 3, …); 0 only with `allowCipher0`. */
    cipherSuite: z
      .number()
      .int()
      .refine((n) => CIPHER_SUITES.has(n), {
        message: `must be a cipher suite the IPMI driver speaks: ${[...CIPHER_SUITES.keys()].join(', ')}`,
      })
      .optional(),
    allowCipher0: z.boolean().optional(),
    /** Driver chain, first choice first (default `power.defaultDrivers`). */
    drivers: z.array(z.enum(POWER_DRIVER_NAMES)).min(1).optional(),
    timeout: duration.optional(),
    redfish: redfishSchema.optional(),
  })
  .superRefine((bmc, ctx) => {
    const given = ['passwordEnv', 'passwordFile', 'passwordEncrypted'].filter(
      (k) => bmc[k as keyof typeof bmc] !== undefined,
    );
    if (bmc.cipherSuite === 0 && bmc.allowCipher0 !== true) {
      ctx.addIssue({
        code: 'custom',
        path: ['cipherSuite'],
        input: 0,
        message: 'cipher suite 0 (no authentication) needs allowCipher0: true',
      });
    }
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['passwordEnv'],
        input: given,
        message: 'give exactly one of passwordEnv, passwordFile, passwordEncrypted (never the password itself)',
      });
    }
  });

const hostSchema = z.strictObject({
  cluster: id,
  agent: z.strictObject({
    /** `http(s)://HOST:PORT`; a `user:password@` is refused and never echoed. */
    url: z.string().superRefine((v, ctx) => {
      const rule = agentUrlRule(v);
      if (rule) ctx.addIssue({ code: 'custom', message: rule, params: { value: shownAgentUrl(v) } });
    }),
  }),
  bmc: bmcSchema,
  hypervisor: text.default('KVM'),
  /** The cluster's shared pool is mounted on this host (what the agent's `--mount` points at). */
  sharedPoolMounted: z.boolean().default(true),
  maintenance: z.boolean().default(false),
  vms: z.number().int().min(0).max(10_000).optional(),
});

/**
 * The standalone cluster file of `hafence serve` (YAML or JSON): the HA settings
 * (`ha:`, the schema of `@hafence/core`), the KVM timings, the power drivers, the
 * zones ⊃ pods ⊃ clusters and the hosts with their agent URL and BMC. Secrets are
 * never values of this file: only where to find them.
 */
export const clusterFileSchema = z
  .strictObject({
    ha: haConfigSchema.prefault({}),
    kvm: z
      .strictObject({
        heartbeatInterval: duration.default(10_000),
        activityWindow: duration.default(20_000),
        leaseMargin: duration.default(30_000),
        replyTimeout: duration.default(10_000),
        powerPoll: duration.default(1_000),
        /** Most VM volumes a neighbour reads per activity check (sampled fairly across the suspect's VMs). */
        maxVolumesPerCheck: z.number().int().min(1).max(128).default(32),
        /** How often each host's VM volume list is asked of its agent while it answers. */
        volumeRefresh: duration.default(60_000),
      })
      .prefault({}),
    /** File holding the agents' bearer token (the same file as `hafence agent --token-file`; mode 0600). */
    agentTokenFile: text,
    /**
     * TLS of the requests to the agents (`https://` agent URLs): `caFile` verifies the
     * agents' certificates; `certFile` + `keyFile` (mode 0600) are the client certificate
     * presented to agents started with `--tls-client-ca`. Given, every agent URL must be https.
     */
    agentTls: z
      .strictObject({ caFile: text, certFile: text.optional(), keyFile: text.optional() })
      .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
        message: 'give both certFile and keyFile, or neither',
        path: ['certFile'],
      })
      .optional(),
    power: z
      .strictObject({
        defaultDrivers: z.array(z.enum(POWER_DRIVER_NAMES)).min(1).default(['ipmi']),
        /** Key of `passwordEncrypted` values when HAFENCE_SECRET_KEY is unset. */
        secretKeyFile: text.optional(),
        /** The script driver, used when a host lists `script` (e.g. as the fallback after `ipmi`). */
        script: z
          .strictObject({
            preset: z.enum(['ipmitool', 'fence-agent', 'custom']).default('ipmitool'),
            agent: text.optional(),
            command: text.optional(),
            args: z
              .array(
                z
                  .string()
                  .max(4096)
                  .refine((v) => !hasControlChars(v), 'must not contain control characters'),
              )
              .optional(),
            passwordVar: envName.optional(),
          })
          .prefault({}),
      })
      .prefault({}),
    store: storeSchema.optional(),
    /**
     * The management servers sharing `store` (each started with `--ms-id`). Optional; when
     * given, `--ms-id` must name one of them.
     */
    servers: z
      .array(z.strictObject({ id: id.pipe(z.string().max(64, 'must be at most 64 characters (as --ms-id)')) }))
      .min(1)
      .max(64)
      .optional(),
    zones: z.record(id, z.strictObject({ ...switches })),
    pods: z.record(id, z.strictObject({ zone: id, ...switches })),
    clusters: z.record(id, z.strictObject({ pod: id, ...switches })),
    hosts: z.record(id, hostSchema),
  })
  .superRefine((file, ctx) => {
    const ref = (path: (string | number)[], value: string, within: Record<string, unknown>, what: string) => {
      if (!Object.hasOwn(within, value))
        ctx.addIssue({ code: 'custom', path, input: value, message: `must name a ${what} of this file` });
    };
    for (const [p, pod] of Object.entries(file.pods)) ref(['pods', p, 'zone'], pod.zone, file.zones, 'zone');
    for (const [c, cl] of Object.entries(file.clusters)) ref(['clusters', c, 'pod'], cl.pod, file.pods, 'pod');
    for (const [h, host] of Object.entries(file.hosts))
      ref(['hosts', h, 'cluster'], host.cluster, file.clusters, 'cluster');
    // A controller is an address and the port of a protocol the host's drivers speak (IPMI's bmc.port, Redfish's
    // bmc.redfish.port; a script reaches the address's IPMI port).
    const controllers = new Map<string, string>();
    for (const [h, host] of Object.entries(file.hosts)) {
      const drivers = host.bmc.drivers ?? file.power.defaultDrivers;
      const address = host.bmc.address.toLowerCase();
      const ends = new Set<string>();
      if (drivers.some((d) => d !== 'redfish')) ends.add(`${address}:${host.bmc.port}`);
      if (drivers.includes('redfish')) ends.add(`https://${address}:${host.bmc.redfish?.port ?? 443}`);
      const other = [...ends].map((end) => controllers.get(end)).find((o) => o !== undefined);
      if (other !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['hosts', h, 'bmc', 'address'],
          input: host.bmc.address,
          message: `is the controller of host ${other} too: a stop command for one would stop both`,
        });
      for (const end of ends) if (!controllers.has(end)) controllers.set(end, h);
    }
    const seen = new Set<string>();
    for (const [i, server] of (file.servers ?? []).entries()) {
      if (seen.has(server.id))
        ctx.addIssue({ code: 'custom', path: ['servers', i, 'id'], input: server.id, message: 'is listed twice' });
      seen.add(server.id);
    }
    if ((file.servers?.length ?? 0) > 1 && (file.store === undefined || typeof file.store === 'string')) {
      ctx.addIssue({
        code: 'custom',
        path: ['store'],
        input: file.store ?? '(default sqlite file)',
        message: 'several servers share one PostgreSQL store: give store: { url: postgres://… }',
      });
    }
    if (file.kvm.activityWindow < 2 * file.kvm.heartbeatInterval) {
      ctx.addIssue({
        code: 'custom',
        path: ['kvm', 'activityWindow'],
        input: file.kvm.activityWindow,
        message: 'must be at least 2 × kvm.heartbeatInterval (see docs/behaviour.md#kvm-hosts)',
      });
    }
  });

/** The cluster file as written (durations may be strings). */
export type ClusterFileOptions = z.input<typeof clusterFileSchema>;

/** The validated cluster file, durations in ms and defaults filled in. */
export type ClusterFile = z.output<typeof clusterFileSchema>;

/** One host of the validated cluster file. */
export type ClusterHost = ClusterFile['hosts'][string];
