import { withClockSignal } from '../util/delay.js';
import type { EngineDeps } from './engine-deps.js';
import type { PowerTransition } from './power-backend.js';
import type { ResourceEngine } from './resource-engine.js';
import type { Runtime } from './runtime.js';

/**
 * Power transitions observed by the sync daemon or an operator's read (SPEC §5.1).
 * Transitions to ON or OFF that our own reads see are the flow's business; a stop
 * command of ours in flight explains an OFF. A controller that became unreadable is
 * news whoever read it.
 */
export async function applyPowerRules(d: EngineDeps, engine: ResourceEngine, rt: Runtime, t: PowerTransition): Promise<void> {
  const host = rt.spec.ref.id;
  const state = rt.record.state;
  const acting = rt.action?.kind === 'recover' || rt.action?.kind === 'fence';
  if (t.to === 'OFF') {
    if (t.by === 'ha' || rt.action?.stopSent || rt.record.episode?.ownOff) return;
    // Proof that needs no command is taken at once, whatever else is going on: a queued,
    // held or running recovery or fence is dropped, and a host that carried workloads gets
    // its release once (in a failure episode it then goes to FENCED).
    if (rt.record.episode) d.alert('warning', 'powered-off-outside', `${host} was switched off outside the framework during a failure episode`, host);
    await engine.actions.powerOffObserved(rt, `power ${t.from}→OFF observed`);
    return;
  }
  if (acting) return;
  if (t.to === 'ON') {
    if (t.by === 'ha') return;
    if (state === 'FENCED' || state === 'FAILED') {
      d.alert('critical', 'fenced-host-powered-on', `${host} was powered on outside the framework while ${state}`, host);
      return;
    }
    await engine.apply(rt, 'power-on-observed', `power ${t.from}→ON observed`, { quiet: true });
    return;
  }
  // → UNKNOWN: protected by the self-fence lease only, or not fenceable at all.
  if (state === 'FENCED' || state === 'FAILED') return;
  const lease = rt.provider.selfFenceLease
    ? await withClockSignal(d.clock, rt.settings.powerOpTimeout, 'lease read',
      (signal) => rt.provider.selfFenceLease!(rt.spec, engine.actions.context(rt, signal))).catch((err: unknown) => {
      d.logger.warn('lease unreadable', { resource: rt.key, error: String(err) });
      return undefined;
    })
    : undefined;
  if (lease && lease.state !== 'none') {
    d.alert('warning', 'lease-only', `${host}: controller unreachable; protected by the self-fence lease only`, host);
    return;
  }
  d.alert('warning', 'not-fenceable', `${host}: controller unreachable and no armed lease: not fenceable`, host);
  await engine.apply(rt, 'power-lost', `power ${t.from}→UNKNOWN`);
}
