import {
  ConfigError,
  HA_SERVICE,
  POWER_SERVICE,
  createHaContainer,
  registerPowerDriver,
  resolveCredential,
  systemClock,
  type Clock,
  type CredentialRef,
  type HaService,
  type HaEvent,
  type Logger,
  type PowerBinding,
  type PowerDriver,
  type PowerManagementService,
  type Secret,
  type ServiceOwnershipOptions,
  type StateStore,
} from '@hafence/core';
import {
  HttpAgentConnectivity,
  HttpNeighborExecutor,
  HttpVolumeDirectory,
  StoreArmRecords,
  registerKvmProvider,
  type AgentClientTls,
  type KvmInventory,
} from '@hafence/provider-kvm';
import { driverFactories } from '../power/driver-factories.js';
import { loadCertAndKey, loadCertFile } from '../secrets/tls-files.js';
import { loadTokenFile } from '../secrets/token-file.js';
import type { ClusterFile, ClusterHost } from './cluster-schema.js';

/** IPMI 2.0 user passwords are at most 20 bytes (longer ones can never log in). */
const IPMI_PASSWORD_MAX_BYTES = 20;

/** Options of {@link StandaloneEngine.start}. */
export interface StandaloneEngineOptions {
  /** The validated cluster file. */
  readonly file: ClusterFile;
  /** Receives every engine and power event, in order. */
  readonly onEvent: (event: HaEvent) => void;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Environment for `passwordEnv` and HAFENCE_SECRET_KEY (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** `hafence serve --tls-ca`: the CA that verifies the agents, instead of `agentTls.caFile`. */
  readonly agentCaFile?: string;
  /** Where HA state lives (default in memory: nothing survives a restart). The engine closes it on stop. */
  readonly store?: StateStore;
  /** Several servers sharing `store`: this server's id and the store's coordination side. */
  readonly ownership?: ServiceOwnershipOptions;
  /**
   * `hafence serve --observe-only`: the whole engine observes (docs/observe-only.md), whatever the file says; without
   * it, the file's `ha.observeOnly` and each zone's, pod's and cluster's `observeOnly` apply.
   */
  readonly observeOnly?: boolean;
}

/**
 * The standalone management server of a bare-metal KVM cluster: the power service
 * (native IPMI, the script driver where a host lists it), the KVM provider over the
 * hafence agents' HTTP API, and the HA engine, wired from one cluster file.
 *
 * @example
 * const engine = await StandaloneEngine.start({
 *   file: loadClusterFile('cluster.yaml'),
 *   onEvent: (e) => console.log(e),
 * });
 * // … on SIGTERM:
 * await engine.stop();
 */
export class StandaloneEngine {
  private constructor(
    readonly service: HaService,
    readonly power: PowerManagementService,
    private readonly stopSubs: () => void,
  ) {}

  /** The KVM provider's resource type. */
  private static readonly RESOURCE_TYPE = 'host';

  /** Resolves every credential and driver first (a `ConfigError` starts nothing), then starts. */
  static async start(options: StandaloneEngineOptions): Promise<StandaloneEngine> {
    const { file } = options;
    const clock = options.clock ?? systemClock;
    const token = loadTokenFile(file.agentTokenFile, 'agentTokenFile');
    const tls = agentTls(file, options.agentCaFile);
    const bindings = new Map<string, PowerBinding>();
    for (const [id, host] of Object.entries(file.hosts)) bindings.set(id, binding(id, host, file, options.env));
    const urls = Object.fromEntries(Object.entries(file.hosts).map(([id, h]) => [id, h.agent.url]));
    const ports = { agents: urls, token, replyTimeoutMs: file.kvm.replyTimeout, clock, tls };
    // A child container per service (STYLE.md): the drivers and the provider register
    // themselves; the container builds the power service from every driver and the engine
    // from every provider, and the engine owns the power service (sync, close, events).
    const c = createHaContainer({
      clock,
      store: options.store,
      ownership: options.ownership,
      config: options.observeOnly === true ? { ...file.ha, observeOnly: true } : file.ha,
      logger: options.logger,
      powerConfig: { defaultPowerDrivers: file.power.defaultDrivers },
    });
    for (const driver of await buildDrivers(file)) registerPowerDriver(c, driver);
    registerKvmProvider(c, {
      // Arms and disarms recorded in the store: a restart or another server sees them.
      ...(options.store ? { armRecords: new StoreArmRecords(options.store) } : {}),
      agents: new HttpAgentConnectivity(ports),
      neighbors: new HttpNeighborExecutor(ports),
      inventory: inventoryOf(file),
      volumes: new HttpVolumeDirectory(ports),
      maxVolumesPerCheck: file.kvm.maxVolumesPerCheck,
      volumeRefreshMs: file.kvm.volumeRefresh,
      heartbeatIntervalMs: file.kvm.heartbeatInterval,
      activityWindowMs: file.kvm.activityWindow,
      leaseMarginMs: file.kvm.leaseMargin,
      replyTimeoutMs: file.kvm.replyTimeout,
      powerPollMs: file.kvm.powerPoll,
    });
    const service = c.resolve<HaService>(HA_SERVICE);
    const power = c.resolve<PowerManagementService>(POWER_SERVICE);
    const subs = [service.events$.subscribe(options.onEvent)];
    const engine = new StandaloneEngine(service, power, () => subs.forEach((s) => s.unsubscribe()));
    try {
      await service.start();
      await addPartitions(service, file);
      for (const [id, host] of Object.entries(file.hosts)) {
        const power = bindings.get(id)!;
        await service.addResource({
          ref: { type: StandaloneEngine.RESOURCE_TYPE, id },
          partition: host.cluster,
          power,
          attributes: { hypervisor: host.hypervisor },
        });
      }
    } catch (err) {
      await engine.stop();
      throw err;
    }
    return engine;
  }

  /**
   * Stops the engine (running checks and actions get `deadlineMs`, then are aborted), its
   * power service's sync daemon, and closes the BMC sessions and sockets.
   */
  async stop(deadlineMs = 0): Promise<void> {
    await this.service.stop({ deadlineMs });
    this.stopSubs();
  }
}

/**
 * The TLS of requests to agents: the CA (`--tls-ca` wins over `agentTls.caFile`) and the
 * client certificate. With either, every agent URL must be https (no plaintext fallback).
 */
function agentTls(file: ClusterFile, caOverride: string | undefined): AgentClientTls | undefined {
  const t = file.agentTls;
  if (t === undefined && caOverride === undefined) return undefined;
  for (const [id, h] of Object.entries(file.hosts)) {
    if (!h.agent.url.startsWith('https:'))
      throw new ConfigError([
        {
          path: `hosts.${id}.agent.url`,
          value: h.agent.url,
          rule: 'must be an https:// URL when agentTls or --tls-ca is given (no plaintext fallback)',
        },
      ]);
  }
  const ca =
    caOverride !== undefined ? loadCertFile(caOverride, '--tls-ca') : loadCertFile(t!.caFile, 'agentTls.caFile');
  const pair =
    t?.certFile !== undefined
      ? loadCertAndKey(t.certFile, 'agentTls.certFile', t.keyFile!, 'agentTls.keyFile')
      : undefined;
  return { ca, cert: pair?.cert, key: pair?.key };
}

async function addPartitions(service: HaService, file: ClusterFile): Promise<void> {
  const switches = (s: { enabled: boolean; haEnabled: boolean; observeOnly: boolean }) => ({
    enabled: s.enabled,
    haEnabled: s.haEnabled,
    ...(s.observeOnly ? { observeOnly: true } : {}),
  });
  for (const [id, z] of Object.entries(file.zones)) await service.addPartition({ id, kind: 'zone', ...switches(z) });
  for (const [id, p] of Object.entries(file.pods))
    await service.addPartition({ id, kind: 'pod', parent: p.zone, ...switches(p) });
  for (const [id, c] of Object.entries(file.clusters))
    await service.addPartition({ id, kind: 'cluster', parent: c.pod, ...switches(c) });
}

function inventoryOf(file: ClusterFile): KvmInventory {
  return {
    facts: (host) => {
      const h = Object.hasOwn(file.hosts, host) ? file.hosts[host] : undefined;
      return (
        h && {
          hypervisor: h.hypervisor,
          sharedPoolMounted: h.sharedPoolMounted,
          maintenance: h.maintenance,
          vms: h.vms,
        }
      );
    },
  };
}

/** Only the drivers some host names are built (no script driver, no ipmitool lookup, unless listed). */
async function buildDrivers(file: ClusterFile): Promise<PowerDriver[]> {
  const names = new Set(file.power.defaultDrivers);
  for (const h of Object.values(file.hosts)) for (const d of h.bmc.drivers ?? []) names.add(d);
  const s = file.power.script;
  const drivers: PowerDriver[] = [];
  for (const name of names) {
    const factory = driverFactories[name];
    if (!factory) {
      const path = file.power.defaultDrivers.includes(name) ? 'power.defaultDrivers' : 'hosts.*.bmc.drivers';
      throw new ConfigError([{ path, value: name, rule: `must be one of ${Object.keys(driverFactories).join(', ')}` }]);
    }
    try {
      drivers.push(
        await factory({
          preset: s.preset,
          agent: s.agent,
          command: s.command,
          args: s.args,
          passwordVar: s.passwordVar,
        }),
      );
    } catch (err) {
      // The factories speak in CLI flags (`--command`); name the field of this file instead.
      if (!(err instanceof ConfigError)) throw err;
      throw new ConfigError(err.issues.map((i) => ({ ...i, path: `power.${name}.${i.path.replace(/^--/, '')}` })));
    }
  }
  return drivers;
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
  return {
    drivers,
    target: { host: id, address: bmc.address, port: bmc.port, username: bmc.username, password, options },
    timeoutMs: bmc.timeout,
  };
}
