import type { HaEvent } from '@hafence/core';
import { createFakeCluster } from '@hafence/testkit';

/** Options of `hafence demo`. */
export interface DemoOptions {
  readonly json?: boolean;
  readonly seed: number;
}

const MIN = 60_000;

/** The fault script of the default demo, in virtual time. */
const STEPS: ReadonlyArray<{ at: number; say: string; run: (c: Awaited<ReturnType<typeof createFakeCluster>>) => void }> = [
  { at: 2 * MIN, say: 'h3 crashes (a power cycle will cure it)', run: (c) => { c.provider.host('h3').crashed = true; } },
  { at: 12 * MIN, say: 'h5 crashes and stays dead (it must be fenced)', run: (c) => Object.assign(c.provider.host('h5'), { crashed: true, stuck: true }) },
  { at: 30 * MIN, say: 'h1 loses only its agent connection (alive: DEGRADED, never fenced)', run: (c) => { c.provider.host('h1').agentDown = true; } },
];

/**
 * `hafence demo`: the engine on a simulated 6-host partition in virtual time — one host
 * recovered by a verified power cycle, one fenced, one alive-but-unreachable — printed
 * as a timeline (or JSON lines).
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  // The demo allows 4 stop commands an hour (default 3) so one run shows a recovery and a fence.
  const c = await createFakeCluster({ hosts: 6, config: { seed: options.seed, startupGrace: 0, defaults: { maxFencesPerWindow: 4 } } });
  const start = c.clock.now();
  const out = (line: string) => process.stdout.write(`${line}\n`);
  let printed = 0;
  const flush = () => {
    for (; printed < c.events.length; printed++) {
      const e = c.events[printed];
      if (options.json) out(JSON.stringify({ ...e, t: e.t - start }));
      else if (!(e.type === 'power.action' && e.action === 'status')) out(format(e, start));
    }
  };
  if (!options.json) out('hafence demo: 6 simulated hosts in cluster c1, virtual time\n');
  for (const step of STEPS) {
    await c.clock.advanceTo(start + step.at);
    flush();
    if (!options.json) out(`${stamp(step.at)}  >>> ${step.say}`);
    step.run(c);
  }
  await c.clock.advanceTo(start + 60 * MIN);
  flush();
  if (!options.json) {
    out('\nfinal states:');
    for (const r of c.service.list()) out(`  ${r.ref.id.padEnd(4)} ${r.state.padEnd(12)} power ${c.power.state(r.ref.id)}${r.released ? '  (workloads released)' : ''}`);
  }
  await c.close();
  return 0;
}

function stamp(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(3, ' ')}m${String(s % 60).padStart(2, '0')}s`;
}

function format(e: HaEvent, start: number): string {
  const t = stamp(e.t - start);
  switch (e.type) {
    case 'resource.transition': return `${t}  ${e.resource.padEnd(4)} ${e.from} → ${e.to}  (${e.reason})`;
    case 'partition.transition': return `${t}  ${e.partition.padEnd(4)} partition ${e.from} → ${e.to}  (${e.reason})`;
    case 'power.transition': return `${t}  ${e.host.padEnd(4)} power ${e.from} → ${e.to}`;
    case 'power.action': return `${t}  ${e.host.padEnd(4)} power ${e.action} by ${e.by}: ${e.ok ? 'ok' : `failed (${e.error})`}`;
    case 'power.auth-failed': return `${t}  ${e.host.padEnd(4)} BMC refused the credentials`;
    case 'workloads.released': return `${t}  ${e.host.padEnd(4)} *** WORKLOADS RELEASED (proof: ${e.proof}) — its VMs may restart elsewhere`;
    case 'fencing.halted': return `${t}  fencing halted for ${e.scope}: ${e.reason}`;
    case 'alert': return `${t}  [${e.level}] ${e.message}`;
  }
}
