import { join } from 'node:path';
import type { HeartbeatRecord } from '../ports.js';
import { HeartbeatFormatError } from './agent-errors.js';

/** Default folder of the heartbeat files inside the shared mount. */
export const DEFAULT_HEARTBEAT_DIR = 'hafence';

const WATCHDOG_KINDS: readonly HeartbeatRecord['watchdog'][] = ['hardware', 'softdog', 'simulated', 'none'];

/** `<mount>/<dir>/hb-<hostId>`: where `hostId` writes its heartbeat (SPEC §5.1). */
export function heartbeatPath(mount: string, hostId: string, dir = DEFAULT_HEARTBEAT_DIR): string {
  if (!/^[A-Za-z0-9._-]+$/.test(hostId)) throw new HeartbeatFormatError(hostId, 'host id may hold only letters, digits, ".", "_" and "-"');
  return join(mount, dir, `hb-${hostId}`);
}

/** The file content of a record: one JSON line. */
export function encodeHeartbeat(record: HeartbeatRecord): string {
  const { counter, armed, selfFenceAfter, watchdog, resetMarginMs } = record;
  return `${JSON.stringify({ counter, armed, selfFenceAfter, watchdog, resetMarginMs })}\n`;
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
  if (!r || typeof r.counter !== 'number' || typeof r.armed !== 'boolean' || typeof r.selfFenceAfter !== 'number'
    || !WATCHDOG_KINDS.includes(r.watchdog as HeartbeatRecord['watchdog'])
    || (r.resetMarginMs !== undefined && typeof r.resetMarginMs !== 'number')) {
    throw new HeartbeatFormatError(path, 'missing or mistyped field');
  }
  const record: HeartbeatRecord = { counter: r.counter, armed: r.armed, selfFenceAfter: r.selfFenceAfter, watchdog: r.watchdog as HeartbeatRecord['watchdog'] };
  return r.resetMarginMs === undefined ? record : { ...record, resetMarginMs: r.resetMarginMs };
}

/** Two reads saw the same content (the activity check compares content, never times). */
export function sameHeartbeat(a: HeartbeatRecord, b: HeartbeatRecord): boolean {
  return encodeHeartbeat(a) === encodeHeartbeat(b);
}
