import { join } from 'node:path';
import type { HeartbeatRecord } from '../ports.js';
import { HeartbeatFormatError } from './agent-errors.js';

/** Default folder of the heartbeat files inside the shared mount. */
export const DEFAULT_HEARTBEAT_DIR = 'hafence';

const WATCHDOG_KINDS: readonly HeartbeatRecord['watchdog'][] = ['hardware', 'softdog', 'simulated', 'none'];

/** `<mount>/<dir>/hb-<hostId>`: where `hostId` writes its heartbeat (docs/behaviour.md#kvm-hosts). */
export function heartbeatPath(mount: string, hostId: string, dir = DEFAULT_HEARTBEAT_DIR): string {
  if (!/^[A-Za-z0-9._-]+$/.test(hostId))
    throw new HeartbeatFormatError(hostId, 'host id may hold only letters, digits, ".", "_" and "-"');
  return join(mount, dir, `hb-${hostId}`);
}

/** The file content of a record: one JSON line. */
export function encodeHeartbeat(record: HeartbeatRecord): string {
  const { counter, armed, selfFenceAfter, watchdog, resetMarginMs, armGen } = record;
  return `${JSON.stringify({ counter, armed, selfFenceAfter, watchdog, resetMarginMs, armGen })}\n`;
}

/** Parses a heartbeat file's content; throws {@link HeartbeatFormatError} when it is not a record. */
export function decodeHeartbeat(text: string, path = 'heartbeat'): HeartbeatRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new HeartbeatFormatError(path, 'not JSON');
  }
  const r = raw as Partial<HeartbeatRecord> | null;
  if (
    !r ||
    typeof r.counter !== 'number' ||
    typeof r.armed !== 'boolean' ||
    typeof r.selfFenceAfter !== 'number' ||
    !WATCHDOG_KINDS.includes(r.watchdog as HeartbeatRecord['watchdog']) ||
    (r.resetMarginMs !== undefined && typeof r.resetMarginMs !== 'number') ||
    (r.armGen !== undefined && !(Number.isSafeInteger(r.armGen) && r.armGen >= 0))
  ) {
    throw new HeartbeatFormatError(path, 'missing or mistyped field');
  }
  // Absent optional fields stay absent (an agent without armGen support echoes none: 0).
  return {
    counter: r.counter,
    armed: r.armed,
    selfFenceAfter: r.selfFenceAfter,
    watchdog: r.watchdog as HeartbeatRecord['watchdog'],
    ...(r.resetMarginMs === undefined ? {} : { resetMarginMs: r.resetMarginMs }),
    ...(r.armGen === undefined ? {} : { armGen: r.armGen }),
  };
}

/** The `armGen` a heartbeat echoes (0 when the agent wrote none). */
export function armGenOf(record: HeartbeatRecord): number {
  return record.armGen ?? 0;
}

/** Two reads saw the same content (the activity check compares content, never times). */
export function sameHeartbeat(a: HeartbeatRecord, b: HeartbeatRecord): boolean {
  return encodeHeartbeat(a) === encodeHeartbeat(b);
}
