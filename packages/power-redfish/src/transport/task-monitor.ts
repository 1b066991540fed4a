import { DriverError, ProtocolError, TimeoutError, delay, type Clock } from '@hafence/core';
import { describeErrorInfo, readErrorInfo } from '../protocol/extended-info.js';
import { toRequestPath } from '../protocol/odata-path.js';
import { readTask } from '../protocol/resources.js';
import type { RedfishBmc } from './redfish-bmc.js';

/** How a task monitor is followed. */
export interface TaskFollowOptions {
  readonly clock: Clock;
  /** Longest time the task may take (the driver's call deadline still applies). */
  readonly deadlineMs: number;
  /** Pause between polls (default 250 ms): a shorter `Retry-After` never polls faster. */
  readonly pollMs: number;
  readonly signal: AbortSignal;
  readonly what: string;
}

const RUNNING = new Set([
  'New',
  'Starting',
  'Running',
  'Suspended',
  'Interrupted',
  'Pending',
  'Stopping',
  'Service',
  'Cancelling',
]);
const FAILED = new Set(['Exception', 'Killed', 'Cancelled']);
const MAX_POLL_MS = 2000;

/**
 * The wait before the next poll: the BMC's `Retry-After` (seconds) bounded to
 * [`pollMs`, 2 s]. A `Retry-After` of 0, a negative or garbage one, or a date never makes
 * the driver poll faster than `pollMs` (a busy loop against a small BMC).
 */
function pause(headers: Record<string, unknown>, pollMs: number): number {
  const v = Number(headers['retry-after']);
  const asked = Number.isFinite(v) && v >= 0 ? v * 1000 : pollMs;
  return Math.min(Math.max(asked, pollMs), Math.max(pollMs, MAX_POLL_MS));
}

/**
 * Follows a task monitor (the `Location` of a `202 Accepted`) until the task ends: a
 * `202` or a running `TaskState` means wait; a `200`/`204` without a task, or a
 * `Completed` task that is not `Critical`, means done. A failed task is a `DriverError`
 * with its messages; a task still running at the deadline a `TimeoutError`.
 */
export async function followTask(bmc: RedfishBmc, location: unknown, o: TaskFollowOptions): Promise<void> {
  const path = toRequestPath(location, bmc.host, `${o.what} task monitor`);
  const end = o.clock.now() + o.deadlineMs;
  for (;;) {
    const a = await bmc.call({ method: 'GET', path, what: `${o.what} task`, signal: o.signal, accept: [202] });
    const task = a.doc ? readTask(a.doc, bmc.host) : undefined;
    if (a.status !== 202 && (!task || !RUNNING.has(task.state))) {
      if (!task) return;
      if (task.state === 'Completed' && task.status !== 'Critical') return;
      const detail = describeErrorInfo(readErrorInfo(a.doc), task.status ?? 'no message');
      if (FAILED.has(task.state) || task.state === 'Completed')
        throw new DriverError('redfish', bmc.host, `${o.what}: task ended ${task.state} (${detail})`);
      throw new ProtocolError(bmc.host, `${o.what}: unknown TaskState ${JSON.stringify(task.state.slice(0, 40))}`);
    }
    const wait = pause(a.headers, o.pollMs);
    if (o.clock.now() + wait > end) throw new TimeoutError(`${o.what} task`, o.deadlineMs, bmc.host);
    await delay(o.clock, wait, o.signal);
  }
}
