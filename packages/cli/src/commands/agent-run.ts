import { ConfigError, parseDuration, type ConfigIssue, type HaError } from '@hafence/core';
import { hasControlChars, isHostOrIp, isReservedKey } from '@hafence/core/internal';
import {
  AgentConfigError,
  FileVmInventory,
  HostAgent,
  systemWatchdog,
  tokenMatches,
  VirshVmInventory,
  virshStopVms,
  type VmInventory,
} from '@hafence/provider-kvm';
import { EXIT } from '../exit-codes.js';
import { agentUrlRule, shownAgentUrl } from '../standalone/agent-url.js';
import { loadCertAndKey, loadCertFile } from '../secrets/tls-files.js';
import { loadTokenFile } from '../secrets/token-file.js';
import { resolveLogLevel } from '../logging/log-level.js';
import { setStderrLogLevel, stderrLogger } from '../stderr-logger.js';
import type { AgentCommandOptions } from './agent.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const WATCHDOGS = ['auto', 'device', 'softdog', 'none'];
const STOP_VMS = ['virsh', 'none'];

/**
 * `HOST:PORT`, `[V6]:PORT`, or a bare `PORT` / `:PORT`. Without an address the agent binds
 * to loopback and says so: listening on every interface must be asked for (`0.0.0.0:PORT`).
 */
export function parseListen(addr: string): { host: string; port: number; defaulted: boolean } {
  const match = /^(?:\[?([^\]]*)\]?:)?(\d{1,5})$/.exec(addr);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535 || (match[1] && !isHostOrIp(match[1]))) {
    throw new ConfigError([{ path: '--listen', value: addr, rule: 'must be HOST:PORT or PORT, the port 1-65535' }]);
  }
  return { host: match[1] || '127.0.0.1', port, defaulted: !match[1] };
}

function count(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,6}$/.test(value) || Number(value) < 1)
    throw new ConfigError([{ path: name, value, rule: 'must be a positive integer' }]);
  return Number(value);
}

function checkId(path: string, value: string): ConfigIssue[] {
  return ID.test(value) && !isReservedKey(value)
    ? []
    : [{ path, value, rule: 'must be an id of letters, digits, . _ - (not __proto__, constructor, prototype)' }];
}

function parsePeers(list: readonly string[]): Record<string, string> {
  const peers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const entry of list) {
    const eq = entry.indexOf('=');
    const [id, url] = [entry.slice(0, Math.max(eq, 0)), entry.slice(eq + 1)];
    // A password written into the URL is never echoed.
    const shown = eq <= 0 ? shownAgentUrl(entry) : `${id}=${shownAgentUrl(url)}`;
    const issues = eq <= 0 ? [{ path: '--peer', value: shown, rule: 'must be ID=URL' }] : checkId('--peer', id);
    const rule = issues.length === 0 ? agentUrlRule(url) : undefined;
    if (rule) issues.push({ path: '--peer', value: shown, rule: `the URL must be http(s)://HOST:PORT: it ${rule}` });
    if (issues.length > 0) throw new ConfigError(issues);
    peers[id] = url;
  }
  return peers;
}

function ms(name: string, value: string): number {
  const n = parseDuration(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new ConfigError([{ path: name, value, rule: 'must be a duration like 10s' }]);
  return n;
}

function choice(name: string, value: string, allowed: readonly string[]): void {
  if (!allowed.includes(value))
    throw new ConfigError([{ path: name, value, rule: `must be one of ${allowed.join(', ')}` }]);
}

/** `--vm-inventory`: `virsh`, `file:PATH` or `none`. */
function vmInventoryOf(how: string): VmInventory | undefined {
  if (how === 'virsh') return new VirshVmInventory();
  if (how === 'none') return undefined;
  const path = how.startsWith('file:') ? how.slice(5) : '';
  if (path.length === 0 || hasControlChars(path))
    throw new ConfigError([{ path: '--vm-inventory', value: how, rule: 'must be virsh, none or file:PATH' }]);
  return new FileVmInventory(path);
}

/** The tokens: the management server's and, when given, the peers' (never the same). */
function tokens(opts: AgentCommandOptions) {
  const token = loadTokenFile(opts.tokenFile, '--token-file');
  if (opts.peerTokenFile === undefined) return { token };
  const peerToken = loadTokenFile(opts.peerTokenFile, '--peer-token-file');
  if (tokenMatches(peerToken.reveal(), token)) {
    throw new ConfigError([
      {
        path: '--peer-token-file',
        value: opts.peerTokenFile,
        rule: 'holds the same token as --token-file: the peer token must differ (one token defeats the split)',
      },
    ]);
  }
  return { token, peerToken };
}

/** The TLS of the server (`--tls-cert/--tls-key`, `--tls-client-ca`) and of requests to peers (`--tls-ca`). */
function tlsSettings(opts: AgentCommandOptions, peers: Readonly<Record<string, string>>) {
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) {
    const [path, value] = opts.tlsCert === undefined ? ['--tls-key', opts.tlsKey] : ['--tls-cert', opts.tlsCert];
    throw new ConfigError([{ path, value, rule: 'give both --tls-cert and --tls-key, or neither' }]);
  }
  if (opts.tlsClientCa !== undefined && opts.tlsCert === undefined) {
    throw new ConfigError([
      {
        path: '--tls-client-ca',
        value: opts.tlsClientCa,
        rule: 'needs --tls-cert and --tls-key (client certificates are checked over HTTPS only)',
      },
    ]);
  }
  if (opts.tlsCa !== undefined) {
    const plain = Object.entries(peers).find(([, url]) => url.startsWith('http:'));
    if (plain)
      throw new ConfigError([
        {
          path: '--peer',
          value: `${plain[0]}=${plain[1]}`,
          rule: 'must be an https:// URL when --tls-ca is given (no plaintext fallback)',
        },
      ]);
  }
  const pair =
    opts.tlsCert !== undefined ? loadCertAndKey(opts.tlsCert, '--tls-cert', opts.tlsKey!, '--tls-key') : undefined;
  const clientCa = opts.tlsClientCa !== undefined ? loadCertFile(opts.tlsClientCa, '--tls-client-ca') : undefined;
  const ca = opts.tlsCa !== undefined ? loadCertFile(opts.tlsCa, '--tls-ca') : undefined;
  return {
    tls: pair && { ...pair, clientCa },
    peerTls: ca !== undefined || pair ? { ca, cert: pair?.cert, key: pair?.key } : undefined,
  };
}

/** Everything `hafence agent` checks before it touches the mount or the watchdog; a `ConfigError` names the option. */
function agentSettings(opts: AgentCommandOptions) {
  const ids = [...checkId('--host-id', opts.hostId), ...checkId('--dir', opts.dir)];
  if (ids.length > 0) throw new ConfigError(ids);
  if (hasControlChars(opts.mount))
    throw new ConfigError([{ path: '--mount', value: opts.mount, rule: 'must not contain control characters' }]);
  choice('--watchdog', opts.watchdog, WATCHDOGS);
  choice('--stop-vms', opts.stopVms, STOP_VMS);
  if (hasControlChars(opts.watchdogDevice))
    throw new ConfigError([
      { path: '--watchdog-device', value: opts.watchdogDevice, rule: 'must not contain control characters' },
    ]);
  const { host, port, defaulted } = parseListen(opts.listen);
  if (defaulted)
    stderrLogger.warn(
      `--listen ${opts.listen} has no address: listening on 127.0.0.1 only (give 0.0.0.0:${port} or the management interface's address to be reached from other hosts)`,
      {},
    );
  const peers = parsePeers(opts.peer);
  return {
    listen: { host, port },
    maxConnections: count('--max-connections', opts.maxConnections),
    maxConnectionsPerAddress: count('--max-connections-per-address', opts.maxConnectionsPerAddress),
    ...tokens(opts),
    peers,
    ...tlsSettings(opts, peers),
    heartbeatIntervalMs: ms('--heartbeat-interval', opts.heartbeatInterval),
    selfFenceAfterMs: ms('--self-fence-after', opts.selfFenceAfter),
  };
}

/**
 * The effective settings at `debug`, for an operator checking what the agent understood. The tokens and the TLS key
 * go in as they are (`Secret`s): the logger prints them `[redacted]`, by value and by field name.
 */
function logSettings(opts: AgentCommandOptions, s: ReturnType<typeof agentSettings>): void {
  stderrLogger.debug('agent settings', {
    host: opts.hostId,
    mount: opts.mount,
    dir: opts.dir,
    listen: `${s.listen.host}:${s.listen.port}`,
    peers: s.peers,
    heartbeatIntervalMs: s.heartbeatIntervalMs,
    selfFenceAfterMs: s.selfFenceAfterMs,
    watchdog: opts.watchdog,
    stopVms: opts.stopVms,
    vmInventory: opts.vmInventory,
    token: s.token,
    peerToken: s.peerToken,
    tls: s.tls && { key: s.tls.key, clientCerts: s.tls.clientCa !== undefined },
  });
}

/** Runs the agent until SIGINT/SIGTERM; resolves to the exit code (2 for a configuration error, nothing started). */
export async function runAgent(opts: AgentCommandOptions): Promise<number> {
  let agent: HostAgent;
  try {
    setStderrLogLevel(resolveLogLevel(opts.logLevel, process.env));
    const settings = agentSettings(opts);
    logSettings(opts, settings);
    agent = new HostAgent({
      hostId: opts.hostId,
      mount: opts.mount,
      dir: opts.dir,
      ...settings,
      watchdog: await systemWatchdog(opts.watchdog, opts.watchdogDevice),
      armed: opts.armed === true,
      stopVms: opts.stopVms === 'virsh' ? virshStopVms : undefined,
      logger: stderrLogger,
      vmInventory: vmInventoryOf(opts.vmInventory),
    });
  } catch (err) {
    if (!(err instanceof ConfigError || err instanceof AgentConfigError)) throw err;
    process.stderr.write(`hafence agent: ${(err as HaError).message}\n`);
    return EXIT.usage;
  }
  const address = await agent.start();
  stderrLogger.info('agent started', {
    host: opts.hostId,
    listen: `${address.address}:${address.port}`,
    tls: opts.tlsCert !== undefined,
    clientCerts: opts.tlsClientCa !== undefined,
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await agent.stop();
  return 0;
}
