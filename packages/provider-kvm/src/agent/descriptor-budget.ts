import { readFileSync } from 'node:fs';
import { AgentConfigError } from './agent-errors.js';
import type { ConnectionLimits } from '@hafence/core/internal';

/**
 * Descriptors kept out of the connection budget (docs/behaviour.md#kvm-hosts): the runtime's own (~25),
 * the heartbeat write, the flag read, the watchdog, peer probes and the log.
 */
export const DESCRIPTOR_RESERVE = 64;
/** Default and ceiling of the total connection cap when none is configured. */
export const DEFAULT_MAX_CONNECTIONS = 256;
/** Default cap of connections from one source address. */
export const DEFAULT_MAX_PER_ADDRESS = 16;

/** The soft `RLIMIT_NOFILE` of this process from `/proc/self/limits`, or undefined off Linux. */
export function readNofileSoftLimit(path = '/proc/self/limits'): number | undefined {
  try {
    const line = readFileSync(path, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    return soft === 'unlimited' ? Number.MAX_SAFE_INTEGER : soft === undefined ? undefined : Number(soft) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The connection caps for a soft descriptor limit: the total defaults to the limit minus
 * {@link DESCRIPTOR_RESERVE} (at most {@link DEFAULT_MAX_CONNECTIONS}), so sockets can
 * never take the descriptors the heartbeat write needs. An explicit cap that would is a
 * configuration error, as is a limit too low to serve anything.
 */
export function connectionLimits(
  softLimit: number | undefined,
  maxConnections?: number,
  maxPerAddress?: number,
): ConnectionLimits {
  const room = (softLimit ?? 1024) - DESCRIPTOR_RESERVE;
  if (room < 8)
    throw new AgentConfigError(
      'maxConnections',
      `the descriptor limit ${softLimit} leaves no room beside the ${DESCRIPTOR_RESERVE} kept for the heartbeat (raise ulimit -n)`,
    );
  const total = maxConnections ?? Math.min(DEFAULT_MAX_CONNECTIONS, room);
  if (!Number.isSafeInteger(total) || total < 1 || total > room) {
    throw new AgentConfigError(
      'maxConnections',
      `must be an integer 1..${room} (the descriptor limit ${softLimit ?? 1024} minus ${DESCRIPTOR_RESERVE} kept for the heartbeat)`,
    );
  }
  const perAddress = maxPerAddress ?? Math.min(DEFAULT_MAX_PER_ADDRESS, total);
  if (!Number.isSafeInteger(perAddress) || perAddress < 1 || perAddress > total) {
    throw new AgentConfigError('maxConnectionsPerAddress', `must be an integer 1..${total} (the total cap)`);
  }
  return { maxConnections: total, maxPerAddress: perAddress };
}
