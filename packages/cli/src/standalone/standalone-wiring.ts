import {
  ConfigError,
  resolveCredential,
  type ConfigIssue,
  type CredentialRef,
  type PowerBinding,
  type PowerDriver,
  type Secret,
} from '@hafence/core';
import type { AgentClientTls } from '@hafence/provider-kvm';
import { driverFactories } from '../power/driver-factories.js';
import { stderrLogger } from '../stderr-logger.js';
import { loadCertAndKey, loadCertFile } from '../secrets/tls-files.js';
import { loadTokenFile } from '../secrets/token-file.js';
import type { ClusterFile, ClusterHost } from './cluster-schema.js';

/** IPMI 2.0 user passwords are at most 20 bytes (longer ones can never log in). */
const IPMI_PASSWORD_MAX_BYTES = 20;

/** Options of {@link resolveStandalone}. */
export interface StandaloneWiringOptions {
  /** Environment for `passwordEnv` and HAFENCE_SECRET_KEY (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** `--tls-ca`: the CA that verifies the agents, instead of `agentTls.caFile`. */
  readonly agentCaFile?: string;
}

/**
 * Everything a cluster file names outside itself, read and checked: the agents' token and
 * TLS material, each host's power binding (its password resolved) and the power drivers the
 * hosts list. The caller owns the drivers: close them when it does not hand them to a power
 * service.
 */
export interface StandaloneWiring {
  readonly token: Secret;
  readonly tls: AgentClientTls | undefined;
  /** Host id → its power binding, in the file's order. */
  readonly bindings: ReadonlyMap<string, PowerBinding>;
  readonly drivers: readonly PowerDriver[];
}

/**
 * Resolves every credential, certificate and driver of a validated cluster file without
 * starting anything (what `hafence serve` does before it starts, and all that
 * `hafence validate` checks). Every bad field is reported, not only the first: one
 * {@link ConfigError} carries the issues of the token file, the TLS files, each host's
 * password and each driver.
 *
 * @example
 * const wiring = await resolveStandalone(loadClusterFile('cluster.yaml'));
 * await closeDrivers(wiring.drivers);
 */
export async function resolveStandalone(
  file: ClusterFile,
  options: StandaloneWiringOptions = {},
): Promise<StandaloneWiring> {
  const issues: ConfigIssue[] = [];
  const collect = <T>(step: () => T): T | undefined => {
    try {
      return step();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      issues.push(...err.issues);
      return undefined;
    }
  };
  const token = collect(() => loadTokenFile(file.agentTokenFile, 'agentTokenFile'));
  const tls = collect(() => agentTls(file, options.agentCaFile));
  const bindings = new Map<string, PowerBinding>();
  for (const [id, host] of Object.entries(file.hosts)) {
    const b = collect(() => binding(id, host, file, options.env));
    if (b) bindings.set(id, b);
  }
  const drivers: PowerDriver[] = [];
  try {
    await buildDrivers(file, drivers, issues);
  } catch (err) {
    await closeDrivers(drivers);
    throw err;
  }
  if (issues.length > 0) {
    await closeDrivers(drivers);
    throw new ConfigError(issues);
  }
  return { token: token!, tls, bindings, drivers };
}

/** Closes drivers that were built but never handed to a power service (sockets, sessions). */
export async function closeDrivers(drivers: readonly PowerDriver[]): Promise<void> {
  await Promise.allSettled(drivers.map((d) => d.close?.()));
}

/**
 * The TLS of requests to agents: the CA (`--tls-ca` wins over `agentTls.caFile`) and the
 * client certificate. With either, every agent URL must be https (no plaintext fallback).
 */
function agentTls(file: ClusterFile, caOverride: string | undefined): AgentClientTls | undefined {
  const t = file.agentTls;
  if (t === undefined && caOverride === undefined) return undefined;
  const plain = Object.entries(file.hosts).filter(([, h]) => !h.agent.url.startsWith('https:'));
  if (plain.length > 0)
    throw new ConfigError(
      plain.map(([id, h]) => ({
        path: `hosts.${id}.agent.url`,
        value: h.agent.url,
        rule: 'must be an https:// URL when agentTls or --tls-ca is given (no plaintext fallback)',
      })),
    );
  const ca =
    caOverride !== undefined ? loadCertFile(caOverride, '--tls-ca') : loadCertFile(t!.caFile, 'agentTls.caFile');
  const pair =
    t?.certFile !== undefined
      ? loadCertAndKey(t.certFile, 'agentTls.certFile', t.keyFile!, 'agentTls.keyFile')
      : undefined;
  return { ca, cert: pair?.cert, key: pair?.key };
}

/** Only the drivers some host names are built (no script driver, no ipmitool lookup, unless listed). */
async function buildDrivers(file: ClusterFile, drivers: PowerDriver[], issues: ConfigIssue[]): Promise<void> {
  const names = new Set(file.power.defaultDrivers);
  for (const h of Object.values(file.hosts)) for (const d of h.bmc.drivers ?? []) names.add(d);
  const s = file.power.script;
  for (const name of names) {
    const factory = driverFactories[name];
    if (!factory) {
      const path = file.power.defaultDrivers.includes(name) ? 'power.defaultDrivers' : 'hosts.*.bmc.drivers';
      issues.push({ path, value: name, rule: `must be one of ${Object.keys(driverFactories).join(', ')}` });
      continue;
    }
    try {
      drivers.push(
        await factory({
          preset: s.preset,
          agent: s.agent,
          command: s.command,
          args: s.args,
          passwordVar: s.passwordVar,
          ipmiBmcs: Object.keys(file.hosts).length,
          logger: stderrLogger,
        }),
      );
    } catch (err) {
      // The factories speak in CLI flags (`--command`); name the field of this file instead.
      if (!(err instanceof ConfigError)) throw err;
      issues.push(...err.issues.map((i) => ({ ...i, path: `power.${name}.${i.path.replace(/^--/, '')}` })));
    }
  }
}

/** The Redfish driver's target options: its port (`bmc.port` is IPMI's), system id, TLS; the CA file checked now. */
function redfishOptions(id: string, r: ClusterHost['bmc']['redfish']): Record<string, unknown> {
  if (r?.caFile !== undefined) loadCertFile(r.caFile, `hosts.${id}.bmc.redfish.caFile`);
  return {
    redfishPort: r?.port ?? 443,
    ...(r?.systemId !== undefined ? { systemId: r.systemId } : {}),
    ...(r?.caFile !== undefined ? { caFile: r.caFile } : {}),
    ...(r?.insecureTls !== undefined ? { insecureTls: r.insecureTls } : {}),
    ...(r?.basicAuth !== undefined ? { basicAuth: r.basicAuth } : {}),
  };
}

function binding(
  id: string,
  host: ClusterHost,
  file: ClusterFile,
  env?: Readonly<Record<string, string | undefined>>,
): PowerBinding {
  const bmc = host.bmc;
  const [field, ref, shown]: [string, CredentialRef, string] =
    bmc.passwordEnv !== undefined
      ? ['passwordEnv', { env: bmc.passwordEnv }, bmc.passwordEnv]
      : bmc.passwordFile !== undefined
        ? ['passwordFile', { file: bmc.passwordFile }, bmc.passwordFile]
        : ['passwordEncrypted', { encrypted: bmc.passwordEncrypted! }, '[redacted]'];
  let password: Secret;
  try {
    password = resolveCredential(ref, { env, keyFile: file.power.secretKeyFile });
  } catch (err) {
    // Name the host's field; the credential module never puts the value in its message.
    const rule =
      err instanceof ConfigError ? err.issues.map((i) => `${i.path}: ${i.rule}`).join('; ') : (err as Error).message;
    throw new ConfigError([{ path: `hosts.${id}.bmc.${field}`, value: shown, rule }]);
  }
  const drivers = bmc.drivers ?? file.power.defaultDrivers;
  if (drivers.includes('ipmi') && Buffer.byteLength(password.reveal(), 'utf8') > IPMI_PASSWORD_MAX_BYTES) {
    throw new ConfigError([
      {
        path: `hosts.${id}.bmc.${field}`,
        value: shown,
        rule: `the password is longer than ${IPMI_PASSWORD_MAX_BYTES} bytes, the IPMI 2.0 maximum`,
      },
    ]);
  }
  const options: Record<string, unknown> = {};
  if (bmc.cipherSuite !== undefined) options.cipherSuite = bmc.cipherSuite;
  if (bmc.allowCipher0 !== undefined) options.allowCipher0 = bmc.allowCipher0;
  if (drivers.includes('redfish')) Object.assign(options, redfishOptions(id, bmc.redfish));
  return {
    drivers,
    target: { host: id, address: bmc.address, port: bmc.port, username: bmc.username, password, options },
    timeoutMs: bmc.timeout,
  };
}
