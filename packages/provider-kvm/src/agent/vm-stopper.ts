import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Best-effort stop of every running VM through libvirt (`virsh destroy`): what the agent
 * does before it starves the watchdog. Failures are ignored; the watchdog reset follows
 * regardless, even when qemu is stuck in the D state.
 */
export async function virshStopVms(signal: AbortSignal): Promise<void> {
  const { stdout } = await run('virsh', ['list', '--name', '--state-running'], { signal });
  const names = stdout
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
  await Promise.all(names.map((name) => run('virsh', ['destroy', name], { signal }).catch(() => undefined)));
}
