import { withClockSignal } from '../util/delay.js';
import type { EngineDeps } from './engine-deps.js';
import type { PowerTransition } from './power-backend.js';
import type { ResourceActions } from './resource-actions.js';
import type { ResourceSteps, Runtime } from './runtime.js';

/**
 * Power transitions observed by the sync daemon or an operator's read (docs/behaviour.md#kvm-hosts).
 * Transitions to ON or OFF that our own reads see are the flow's business; a stop
 * command of ours explains an OFF only when the read came after it reached the
 * controller. A controller that became unreadable is news whoever read it.
 */
export async function applyPowerRules(
  d: EngineDeps,
  steps: ResourceSteps,
  actions: ResourceActions,
  rt: Runtime,
  t: PowerTransition,
): Promise<void> {
  const host = rt.spec.ref.id;
  const state = rt.record.state;
  if (t.to === 'OFF') {
    if (t.by === 'ha') return;
    if (ownOff(rt, t)) {
      // Our own earlier stop (of a recovery cut short, or of a server before us) left it OFF
      // and nothing of ours is in flight: once fencing is where it stands, that read is the
      // proof it waits for — released once, FENCED — not someone else's switch.
      if (!rt.action && (state === 'FENCING' || state === 'FAILED')) {
        await steps.apply(rt, 'power-off-observed', `power ${t.from}→OFF read after our own stop command`, {
          release: 'power-off',
        });
      }
      return;
    }
    // Proof that needs no command is taken at once, whatever else is going on: a queued,
    // held or running recovery or fence is dropped, and a host that carried workloads gets
    // its release once (in a failure episode it then goes to FENCED).
    await actions.powerOffObserved(rt, `power ${t.from}→OFF observed`);
    return;
  }
  const acting = rt.action?.kind === 'recover' || rt.action?.kind === 'fence';
  if (t.to === 'ON') {
    if (t.by === 'ha' || acting) return;
    if (state === 'FENCED' || state === 'FAILED') {
      d.alert(
        'critical',
        'fenced-host-powered-on',
        `${host} was powered on outside the framework while ${state}`,
        host,
      );
      return;
    }
    await steps.apply(rt, 'power-on-observed', `power ${t.from}→ON observed`, { quiet: true });
    return;
  }
  // → UNKNOWN: protected by the self-fence lease only, or not fenceable at all.
  if (state === 'FENCED' || state === 'FAILED') return;
  const lease = rt.provider.selfFenceLease
    ? await withClockSignal(
        d.clock,
        rt.settings.activityCheckTimeout,
        'lease read',
        (signal) => rt.provider.selfFenceLease!(rt.spec, actions.context(rt, signal)),
        { parent: actions.stopping, race: true },
      ).catch((err: unknown) => {
        if (!actions.stopping.aborted) d.logger.warn('lease unreadable', { resource: rt.key, error: String(err) });
        return undefined;
      })
    : undefined;
  if (actions.stopping.aborted) return; // the service stops: an aborted read tells nothing
  const protectedByLease = !!lease && lease.state !== 'none';
  if (protectedByLease)
    d.alert('warning', 'lease-only', `${host}: controller unreachable; protected by the self-fence lease only`, host);
  else d.alert('warning', 'not-fenceable', `${host}: controller unreachable and no armed lease: not fenceable`, host);
  if (acting) {
    // A stop still queued or held by the budget cannot be delivered: the lease decides now.
    await actions.controllerLost(rt);
    return;
  }
  if (!protectedByLease) await steps.apply(rt, 'power-lost', `power ${t.from}→UNKNOWN`);
}

/** Whether an OFF seen by this read may be our own stop's doing. */
function ownOff(rt: Runtime, t: PowerTransition): boolean {
  const stopSeq = rt.action?.stopSeq;
  if (stopSeq !== undefined) return t.seq === undefined || t.seq > stopSeq;
  // No action in flight: a stop of ours left it OFF earlier in the episode (power-on unconfirmed).
  return !rt.action && !!rt.record.episode?.ownOff;
}
