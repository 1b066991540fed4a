import { ConfigError, parseDuration } from '@hafence/core';
import { HostAgent, readTokenFile, systemWatchdog, virshStopVms } from '@hafence/provider-kvm';
import { stderrLogger } from '../stderr-logger.js';
import type { AgentCommandOptions } from './agent.js';

function parseListen(addr: string): { host: string; port: number } {
  const match = /^(?:\[?([^\]]*)\]?:)?(\d{1,5})$/.exec(addr);
  if (!match) throw new ConfigError([{ path: 'listen', value: addr, rule: 'must be HOST:PORT or PORT' }]);
  return { host: match[1] || '0.0.0.0', port: Number(match[2]) };
}

function parsePeers(list: readonly string[]): Record<string, string> {
  const peers: Record<string, string> = {};
  for (const entry of list) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new ConfigError([{ path: 'peer', value: entry, rule: 'must be ID=URL' }]);
    peers[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return peers;
}

function ms(name: string, value: string): number {
  const n = parseDuration(value);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError([{ path: name, value, rule: 'must be a duration like 10s' }]);
  return n;
}

/** Runs the agent until SIGINT/SIGTERM; resolves to the exit code. */
export async function runAgent(opts: AgentCommandOptions): Promise<number> {
  const agent = new HostAgent({
    hostId: opts.hostId, mount: opts.mount, dir: opts.dir, listen: parseListen(opts.listen),
    token: await readTokenFile(opts.tokenFile), watchdog: await systemWatchdog(opts.watchdog),
    peers: parsePeers(opts.peer), heartbeatIntervalMs: ms('heartbeat-interval', opts.heartbeatInterval),
    selfFenceAfterMs: ms('self-fence-after', opts.selfFenceAfter), armed: opts.armed === true,
    stopVms: opts.stopVms === 'virsh' ? virshStopVms : undefined, logger: stderrLogger,
  });
  const address = await agent.start();
  stderrLogger.info('agent started', { host: opts.hostId, listen: `${address.address}:${address.port}` });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await agent.stop();
  return 0;
}
