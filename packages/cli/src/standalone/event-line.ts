import type { HaEvent } from '@hafence/core';

/**
 * One event as one line of `hafence serve`: the JSON of docs/behaviour.md#scenarios with `--json`, a
 * readable line otherwise.
 */
export function eventLine(event: HaEvent, json: boolean): string | undefined {
  if (json) return JSON.stringify(event);
  const text = describe(event);
  return text === undefined ? undefined : `${new Date(event.t).toISOString()}  ${text}`;
}

function describe(e: HaEvent): string | undefined {
  switch (e.type) {
    case 'resource.transition':
      return `${e.resource.padEnd(8)} ${e.from} → ${e.to}  (${e.reason})`;
    case 'partition.transition':
      return `${e.partition.padEnd(8)} partition ${e.from} → ${e.to}  (${e.reason})`;
    case 'power.transition':
      return `${e.host.padEnd(8)} power ${e.from} → ${e.to}`;
    case 'power.action':
      return `${e.host.padEnd(8)} power ${e.action} by ${e.by}: ${e.ok ? 'ok' : `failed (${e.error ?? 'unknown error'})`}`;
    case 'would.power.action':
      return `${e.host.padEnd(8)} WOULD power ${e.action} by ${e.by} (observe-only: not sent)`;
    case 'power.read-failing':
      return `${e.host.padEnd(8)} power reads failing (${e.error})`;
    case 'power.read-ok':
      return `${e.host.padEnd(8)} power read ok again after ${e.failures} failed read(s)`;
    case 'power.auth-failed':
      return `${e.host.padEnd(8)} BMC refused the credentials`;
    case 'workloads.released':
      return `${e.host.padEnd(8)} WORKLOADS RELEASED (proof: ${e.proof}): its VMs may restart elsewhere`;
    case 'fencing.halted':
      return `fencing halted for ${e.scope}: ${e.reason}`;
    case 'partition.acquired':
      return `${e.partition.padEnd(8)} partition taken by this server (epoch ${e.epoch})`;
    case 'partition.lost':
      return `${e.partition.padEnd(8)} partition lost by this server (epoch ${e.epoch}): ${e.reason}`;
    case 'partition.handed-over':
      return `${e.partition.padEnd(8)} partition handed over by this server: ${e.reason}`;
    case 'operator.action':
      return `${e.target.padEnd(8)} operator ${e.action} by ${e.by}${e.reason === undefined ? '' : `: ${e.reason}`}`;
    case 'alert':
      return `${(e.resource ?? '').padEnd(8)} [${e.level}] ${e.message}`;
  }
}
