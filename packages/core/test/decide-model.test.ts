import { expect } from 'chai';
import fc from 'fast-check';
import {
  DEFAULT_SETTINGS,
  resourceTransition,
  type ActivityResult,
  type ResourceRecord,
  type ResourceState,
} from '@hafence/core';
import {
  activityStep,
  deadlineOf,
  decide,
  fenceStep,
  healthEvent,
  recoverStep,
  resumeEvent,
  timerEvent,
  type StepDecision,
  type StepInput,
} from '@hafence/core/internal';

/**
 * Model-based properties of the decision function alone (no timers, no I/O): random
 * sequences of what the world answers — health checks, activity verdicts, timers coming
 * due, recovery and fence outcomes, power read OFF, the partition going away and back —
 * are turned into steps the way the engine turns them, and the engine's promises are
 * checked after every step. The service-level model runs in engine-properties.test.ts.
 */

const S = { ...DEFAULT_SETTINGS, inactiveChecksToRecover: 2, maxActivityChecks: 3, maxActivityCheckErrors: 3 };
const RUNS = Number(process.env.HAFENCE_PROPERTY_RUNS ?? 1000);
const WAITING: Partial<Record<ResourceState, 'activityAt' | 'recheckAt'>> = {
  SUSPECT: 'activityAt',
  DEGRADED: 'recheckAt',
};

type World =
  | { kind: 'health'; healthy: boolean }
  | { kind: 'activity'; verdict: ActivityResult['verdict'] }
  | { kind: 'timer' }
  | { kind: 'recover'; ok: boolean }
  | { kind: 'fence'; outcome: 'verified-off' | 'lease' | 'failed' }
  | { kind: 'off-observed' }
  | { kind: 'partition'; active: boolean }
  | { kind: 'elapse'; ms: number };

const worldArb: fc.Arbitrary<World> = fc.oneof(
  fc.record({ kind: fc.constant('health' as const), healthy: fc.boolean() }),
  fc.record({ kind: fc.constant('activity' as const), verdict: fc.constantFrom('active', 'inactive', 'error') }),
  fc.constant({ kind: 'timer' as const }),
  fc.record({ kind: fc.constant('recover' as const), ok: fc.boolean() }),
  fc.record({ kind: fc.constant('fence' as const), outcome: fc.constantFrom('verified-off', 'lease', 'failed') }),
  fc.constant({ kind: 'off-observed' as const }),
  fc.record({ kind: fc.constant('partition' as const), active: fc.boolean() }),
  fc.record({ kind: fc.constant('elapse' as const), ms: fc.integer({ min: 1, max: 10 * 60_000 }) }),
);

/** The step the engine would take for `w` in `r` (as the engine classifies it), or undefined when it takes none. */
function stepFor(r: ResourceRecord, w: World, healthy: boolean | undefined, now: number): StepInput | undefined {
  switch (w.kind) {
    case 'health':
      return healthEvent(r, { healthy: w.healthy }, now);
    case 'activity': {
      if (r.state !== 'CHECKING') return undefined; // only a running check answers
      const a = activityStep('h1', r.episode, { verdict: w.verdict }, S);
      return { event: a.event, reason: a.reason, counters: a.counters };
    }
    case 'timer': {
      const at = deadlineOf(r.state, r.timers);
      const event = timerEvent(r.state);
      return at !== undefined && at <= now && event ? { event, reason: 'due' } : undefined;
    }
    case 'recover': {
      if (r.state !== 'RECOVERING') return undefined;
      const step = recoverStep({ kind: 'ok', value: { ok: w.ok } }, { onSent: false }, r.episode, S, now);
      if (step.kind !== 'apply') return undefined; // a status read decides (not modelled: no stop command here)
      // The attempt is counted when it starts; the model merges it into its outcome.
      const { event, reason, quiet, timers } = step;
      return { event, reason, quiet, timers, counters: (e) => ({ ...e, recoverAttempts: e.recoverAttempts + 1 }) };
    }
    case 'fence': {
      if (r.state !== 'FENCING') return undefined;
      if (w.outcome === 'lease') return { event: 'fence-lease-expired', reason: 'lease', release: 'lease' };
      const outcome = w.outcome === 'verified-off' ? ('off' as const) : ('failed' as const);
      const step = fenceStep({ kind: 'ok', value: { outcome } }, true);
      return step.kind === 'fenced'
        ? { event: 'fence-verified-off', reason: step.reason, release: 'power-off' }
        : { event: 'fence-failed', reason: step.why, timers: { leaseAt: undefined } };
    }
    case 'off-observed':
      return {
        event: 'power-off-observed',
        reason: 'read OFF',
        release: 'power-off',
        counters: (e) => ({ ...e, offRead: true, ownOff: false }),
      };
    case 'partition':
      return w.active
        ? { event: r.state === 'NONE' ? resumeEvent(r.episode, healthy) : null, reason: 'active' }
        : { event: 'partition-inactive', reason: 'inactive' };
    case 'elapse':
      return undefined;
  }
}

describe('decide: model-based properties (the decision function driven directly)', () => {
  it(`random worlds keep the engine's promises after every step (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.array(worldArb, { minLength: 1, maxLength: 80 }), (worlds) => {
        let now = 0;
        let r: ResourceRecord = {
          key: 'host/h1',
          ref: { type: 'host', id: 'h1' },
          partition: 'c1',
          state: 'NONE',
          version: 0,
          since: 0,
          nextEpisode: 1,
          releasedOutside: false,
          timers: {},
        };
        let healthy: boolean | undefined;
        /** Releases per episode id (0: outside an episode, since the resource last ran). */
        const released = new Map<number, number>();
        let inactiveInARow = 0;
        for (const w of worlds) {
          if (w.kind === 'elapse') now += w.ms;
          if (w.kind === 'health') healthy = w.healthy;
          const input = stepFor(r, w, healthy, now);
          if (!input) continue;
          const before = r;
          let d: StepDecision | undefined;
          expect(() => (d = decide(before, input, { now, settings: S }))).to.not.throw();
          if (!d) continue;
          r = d.record;
          const to = input.event ? resourceTransition(before.state, input.event) : undefined;
          // (a) every state change is one the table allows.
          expect(d.target).to.equal(to);
          expect(r.state).to.equal(to ?? before.state);
          expect(r.version).to.equal(before.version + 1);
          // (b) workloads released only with proof, at most once per episode (or once per run outside one).
          for (const e of d.events) {
            if (e.type !== 'workloads.released') continue;
            expect(input.release).to.equal(e.proof);
            const id = r.episode?.id ?? 0;
            released.set(id, (released.get(id) ?? 0) + 1);
            expect(released.get(id)).to.equal(1);
          }
          if (r.state === 'AVAILABLE') released.delete(0);
          // An episode is open from SUSPECT until AVAILABLE; FENCED and FAILED keep their outcome.
          if (['SUSPECT', 'CHECKING', 'DEGRADED', 'RECOVERING', 'FENCING'].includes(r.state))
            expect(r.episode, `${r.state} without an episode`).to.not.equal(undefined);
          if (r.state === 'AVAILABLE') expect(r.episode).to.equal(undefined);
          if ((r.state === 'FENCED' || r.state === 'FAILED') && r.episode) expect(r.episode.outcome).to.equal(r.state);
          // A state that waits for a deadline has one once entered.
          const timer = WAITING[r.state];
          if (to !== undefined && timer) expect(r.timers[timer]).to.be.a('number');
          // Recovery only after enough "no activity" answers in a row, never after an error.
          if (input.event === 'activity-inactive') inactiveInARow++;
          else if (input.event?.startsWith('activity-')) inactiveInARow = 0;
          if (input.event === 'activity-inactive-confirmed') {
            expect(inactiveInARow + 1).to.be.at.least(S.inactiveChecksToRecover);
            inactiveInARow = 0;
          }
          if (r.state === 'AVAILABLE') inactiveInARow = 0;
          // Work starts exactly on a transition.
          expect(d.effects.some((e) => e.kind === 'start-work')).to.equal(to !== undefined);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
