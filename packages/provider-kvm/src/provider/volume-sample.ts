import type { VmVolume } from '../ports.js';

/**
 * Chooses at most `max` of a host's VM volumes for one activity check, fairly across its
 * VMs: one volume of each VM first (starting at the VM `turn` selects, so that over
 * successive checks every VM gets its turn when there are more VMs than `max`), then a
 * second of each, and so on. A volume shared by two VMs is read once.
 */
export function sampleVolumes(list: readonly VmVolume[], max: number, turn: number): string[] {
  const byVm = new Map<string, string[]>();
  for (const { vm, volume } of list) {
    const volumes = byVm.get(vm);
    if (volumes) volumes.push(volume);
    else byVm.set(vm, [volume]);
  }
  const vms = [...byVm.values()];
  if (vms.length === 0) return [];
  const start = turn % vms.length;
  const order = [...vms.slice(start), ...vms.slice(0, start)];
  const chosen = new Set<string>();
  for (let depth = 0; chosen.size < max; depth++) {
    let any = false;
    for (const volumes of order) {
      if (depth >= volumes.length) continue;
      any = true;
      chosen.add(volumes[depth]!);
      if (chosen.size >= max) break;
    }
    if (!any) break;
  }
  return [...chosen];
}
