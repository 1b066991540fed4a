import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { promisify } from 'node:util';
import { DeviceWatchdog, detectWatchdogKind, readWatchdogTimeoutMs, type Watchdog } from './watchdog.js';

const run = promisify(execFile);

/** Timeout (s) the softdog is loaded with when the agent loads it. */
export const SOFTDOG_MARGIN_S = 10;

/** Which watchdog `hafence agent` uses: `auto` prefers a hardware device, then the softdog. */
export type WatchdogChoice = 'auto' | 'device' | 'softdog' | 'none';

/** A watchdog that is never armed (the lease stays unarmed; the agent never self-fences). */
export const NO_WATCHDOG: Watchdog = {
  kind: 'none',
  open: async () => {},
  feed: async () => {},
  close: async () => {},
};

/**
 * The host's watchdog (docs/behaviour.md#kvm-hosts): `/dev/watchdog` where present, otherwise the kernel's
 * softdog (loaded with `modprobe softdog`). The device is only opened when the agent is
 * armed. Throws when `device`/`softdog` is asked for and cannot be had.
 */
export async function systemWatchdog(choice: WatchdogChoice, device = '/dev/watchdog'): Promise<Watchdog> {
  if (choice === 'none') return NO_WATCHDOG;
  const present = () =>
    access(device).then(
      () => true,
      () => false,
    );
  if (choice !== 'softdog' && (await present()))
    return new DeviceWatchdog(await detectWatchdogKind(), device, await readWatchdogTimeoutMs());
  if (choice === 'device') throw new Error(`no watchdog device at ${device}`);
  // A short margin keeps the reset inside the management server's lease margin (docs/behaviour.md#kvm-hosts).
  await run('modprobe', ['softdog', `soft_margin=${SOFTDOG_MARGIN_S}`]).catch(() => undefined);
  if (await present())
    return new DeviceWatchdog('softdog', device, (await readWatchdogTimeoutMs()) ?? SOFTDOG_MARGIN_S * 1000);
  if (choice === 'softdog') throw new Error('the softdog module could not be loaded');
  return NO_WATCHDOG;
}
