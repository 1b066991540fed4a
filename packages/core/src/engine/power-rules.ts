import { withClockSignal } from '../util/delay.js';
import type { EngineDeps } from './engine-deps.js';
import type { PowerTransition } from './power-backend.js';
import type { ResourceEngine } from './resource-engine.js';
import type { Runtime } from './runtime.js';

/**
 * Power transitions observed by the sync daemon (SPEC §5.1). Transitions caused by our
 * own reads/commands, or seen while our own recovery or fence is in flight, are the
 * flow's business and not news here.
 */
export async function applyPowerRules(d: EngineDeps, engine: ResourceEngine, rt: Runtime, t: PowerTransition): Promise<void> {
  if (t.by === 'ha' || rt.action?.kind === 'recover' || rt.action?.kind === 'fence') return;
  const host = rt.spec.ref.id;
  const state = rt.record.state;
  if (t.to === 'OFF') {
    // A host read OFF gets its workloads released once, in any state.
    await engine.apply(rt, 'power-off-observed', `power ${t.from}→OFF observed`, { release: 'power-off' });
    return;
  }
  if (t.to === 'ON') {
    if (state === 'FENCED' || state === 'FAILED') {
      d.alert('critical', 'fenced-host-powered-on', `${host} was powered on outside the framework while ${state}`, host);
      return;
    }
    await engine.apply(rt, 'power-on-observed', `power ${t.from}→ON observed`, { quiet: true, patch: { releasedOutside: false } });
    return;
  }
  // → UNKNOWN: protected by the self-fence lease only, or not fenceable at all.
  if (state === 'FENCED' || state === 'FAILED') return;
  const lease = rt.provider.selfFenceLease
    ? await withClockSignal(d.clock, rt.settings.powerOpTimeout, 'lease read',
      (signal) => rt.provider.selfFenceLease!(rt.spec, engine.actions.context(rt, signal))).catch(() => undefined)
    : undefined;
  if (lease && lease.state !== 'none') {
    d.alert('warning', 'lease-only', `${host}: controller unreachable; protected by the self-fence lease only`, host);
    return;
  }
  d.alert('warning', 'not-fenceable', `${host}: controller unreachable and no armed lease: not fenceable`, host);
  await engine.apply(rt, 'power-lost', `power ${t.from}→UNKNOWN`);
}
