import { expect } from 'chai';
import fc from 'fast-check';
import {
  DEFAULT_SETTINGS,
  RESOURCE_EVENTS,
  RESOURCE_STATES,
  resourceTransition,
  type ActivityResult,
  type Episode,
  type ResourceEvent,
  type ResourceRecord,
  type ResourceState,
} from '@hafence/core';
import {
  activityStep,
  deadlineOf,
  decide,
  resumeEvent,
  timerEvent,
  type StepContext,
  type StepDecision,
  type StepInput,
} from '@hafence/core/internal';

/**
 * The resource engine's pure decision function (docs/behaviour.md#resource-states): every
 * state × event, the episode and release bookkeeping, and properties over random records.
 */

const NOW = 1_000_000;
const S = DEFAULT_SETTINGS;
const CTX: StepContext = { now: NOW, settings: S };
const EPISODE_STATES = new Set<ResourceState>(['SUSPECT', 'CHECKING', 'DEGRADED', 'RECOVERING', 'FENCING']);

function episode(over: Partial<Episode> = {}): Episode {
  return {
    id: 1,
    openedAt: 0,
    released: false,
    checks: 0,
    activeResults: 0,
    inactiveStreak: 0,
    errorStreak: 0,
    recoverAttempts: 0,
    degradedAlerted: false,
    ...over,
  };
}

function record(state: ResourceState, over: Partial<ResourceRecord> = {}): ResourceRecord {
  return {
    key: 'host/h1',
    ref: { type: 'host', id: 'h1' },
    partition: 'c1',
    state,
    version: 7,
    since: 0,
    nextEpisode: 2,
    releasedOutside: false,
    timers: {},
    episode: EPISODE_STATES.has(state) || state === 'FENCED' || state === 'FAILED' ? episode() : undefined,
    ...over,
  };
}

function step(r: ResourceRecord, input: Partial<StepInput> & { event: ResourceEvent | null }, ctx = CTX) {
  return decide(r, { reason: 'why', ...input }, ctx);
}

function kinds(d: StepDecision): string[] {
  return d.effects.map((e) => e.kind);
}

describe('decide: the resource engine decision function', () => {
  describe('every state × event follows the table', () => {
    for (const state of RESOURCE_STATES) {
      for (const event of RESOURCE_EVENTS) {
        const to = resourceTransition(state, event);
        it(`${state} + ${event} → ${to ?? 'ignored'}`, () => {
          const d = step(record(state), { event });
          if (to === undefined) {
            expect(d).to.equal(undefined);
            return;
          }
          expect(d).to.not.equal(undefined);
          const { record: next, events, effects } = d!;
          expect(next.state).to.equal(to);
          expect(next.version).to.equal(8);
          expect(next.since).to.equal(NOW);
          expect(events[0]).to.deep.equal({
            t: NOW,
            type: 'resource.transition',
            resource: 'h1',
            resourceType: 'host',
            from: state,
            to,
            reason: `${event}: why`,
          });
          expect(events).to.have.length(1); // no release without proof
          expect(effects.at(-1)).to.deep.equal({ kind: 'start-work', state: to });
          expect(kinds(d!).includes('membership-changed')).to.equal(state !== to);
          expect(kinds(d!)).to.include('arm-state-timer');
          expect(kinds(d!)).to.include('refresh-failing');
        });
      }
    }
  });

  describe('episodes', () => {
    it('entering SUSPECT without an episode opens one with the next id', () => {
      const d = step(record('AVAILABLE'), { event: 'health-failed' })!;
      expect(d.record.episode).to.deep.include({ id: 2, openedAt: NOW, released: false, checks: 0 });
      expect(d.record.nextEpisode).to.equal(3);
      expect(d.record.timers).to.deep.equal({ activityAt: NOW + S.activityCheckInterval });
    });

    it('a new episode after a release outside one starts released (never released twice)', () => {
      const d = step(record('INITIALIZING', { releasedOutside: true }), { event: 'health-failed' })!;
      expect(d.record.episode?.released).to.equal(true);
    });

    it('AVAILABLE closes the episode and clears the outside release', () => {
      const d = step(record('SUSPECT', { releasedOutside: true }), { event: 'health-passed' })!;
      expect(d.record.episode).to.equal(undefined);
      expect(d.record.releasedOutside).to.equal(false);
    });

    it('FENCED and FAILED record the outcome; INITIALIZING clears it', () => {
      expect(step(record('FENCING'), { event: 'fence-lease-expired' })!.record.episode?.outcome).to.equal('FENCED');
      expect(step(record('FENCING'), { event: 'fence-failed' })!.record.episode?.outcome).to.equal('FAILED');
      const fenced = record('FENCED', { episode: episode({ outcome: 'FENCED' }) });
      const d = step(fenced, { event: 'health-passed' })!;
      expect(d.record.state).to.equal('INITIALIZING');
      expect(d.record.episode).to.have.property('outcome', undefined);
    });

    it('counters apply before the transition; without an episode they are not called', () => {
      const d = step(record('CHECKING'), {
        event: 'activity-active',
        counters: (e) => ({ ...e, checks: e.checks + 3 }),
      })!;
      expect(d.record.episode?.checks).to.equal(3);
      expect(d.record.timers.activityAt).to.equal(
        NOW + Math.min(S.activityCheckInterval * 8, S.maxActivityCheckInterval),
      );
      let called = false;
      const none = step(record('AVAILABLE'), {
        event: null,
        counters: (e) => {
          called = true;
          return e;
        },
      })!;
      expect(called).to.equal(false);
      expect(none.record.version).to.equal(8); // a write all the same
    });

    it('a quiet INITIALIZING gets the quiet period; a plain one none', () => {
      const quiet = step(record('RECOVERING'), { event: 'recover-succeeded', quiet: true })!;
      expect(quiet.record.timers).to.deep.equal({ quietUntil: NOW + S.quietPeriod });
      const plain = step(record('UNSUPPORTED'), { event: 'eligibility-regained' })!;
      expect(plain.record.timers).to.deep.equal({ quietUntil: NOW });
    });

    it("timers given merge after the entered state's own", () => {
      const d = step(record('RECOVERING'), { event: 'recover-failed', timers: { retryAt: NOW + 5 } })!;
      expect(d.record.timers).to.deep.equal({ retryAt: NOW + 5 });
      expect(d.record.state).to.equal('RECOVERING');
      expect(d.target).to.equal('RECOVERING');
      expect(kinds(d)).to.not.include('membership-changed');
    });
  });

  describe('release', () => {
    it('once per episode', () => {
      const d = step(record('FENCING'), { event: 'fence-verified-off', release: 'power-off' })!;
      expect(d.released).to.equal('power-off');
      expect(d.record.episode?.released).to.equal(true);
      expect(d.events[1]).to.deep.equal({
        t: NOW,
        type: 'workloads.released',
        resource: 'h1',
        resourceType: 'host',
        host: 'h1',
        proof: 'power-off',
        episode: d.record.episode?.id, // a consumer drops a relayed duplicate by it (docs/behaviour.md#persistence)
      });
      expect(d.events[1]).to.have.property('episode').that.is.a('number');
      const again = step(d.record, { event: null, release: 'power-off' });
      expect(again).to.equal(undefined); // nothing new to write
    });

    it('outside an episode once, until the resource runs again', () => {
      const d = step(record('AVAILABLE'), { event: 'power-off-observed', release: 'power-off' })!;
      expect(d.record.state).to.equal('UNSUPPORTED');
      expect(d.record.releasedOutside).to.equal(true);
      expect(d.released).to.equal('power-off');
      expect(d.events.find((e) => e.type === 'workloads.released')).to.not.have.property('episode');
      const again = step(d.record, { event: 'power-off-observed', release: 'power-off' });
      expect(again).to.equal(undefined);
    });
  });

  describe('effects', () => {
    it('a write without a state change arms the timer and keeps the in-flight action current', () => {
      const d = step(
        record('RECOVERING'),
        { event: null, counters: (e) => e },
        { ...CTX, action: { id: 4, state: 'RECOVERING' } },
      )!;
      expect(kinds(d)).to.deep.equal(['adopt-version', 'arm-state-timer']);
      expect(d.events).to.deep.equal([]);
    });

    it("leaving the action's state cancels it; its own write keeps it current", () => {
      const ctx = { ...CTX, action: { id: 4, state: 'RECOVERING' as const } };
      const left = step(record('RECOVERING'), { event: 'recover-exhausted' }, ctx)!;
      expect(kinds(left)).to.deep.equal([
        'cancel-action',
        'refresh-failing',
        'membership-changed',
        'arm-state-timer',
        'alert',
        'start-work',
      ]);
      expect(left.effects[0]).to.deep.equal({ kind: 'cancel-action', reason: 'left RECOVERING for FENCING' });
      expect(left.effects[4]).to.deep.include({ level: 'warning', code: 'recovery-exhausted' });
      const own = step(record('RECOVERING'), { event: 'recover-failed', actionId: 4 }, ctx)!;
      expect(kinds(own)).to.deep.equal(['adopt-version', 'refresh-failing', 'arm-state-timer', 'start-work']);
    });

    it('alerts on entering FAILED, and FENCED within an episode (not when resumed from NONE)', () => {
      const failed = step(record('FENCING'), { event: 'fence-failed' })!;
      expect(failed.effects).to.deep.include({
        kind: 'alert',
        level: 'critical',
        code: 'failed',
        message: 'h1 FAILED: automated recovery and fencing failed; operator needed',
      });
      const fenced = step(record('CHECKING'), { event: 'power-off-observed', release: 'power-off' })!;
      expect(fenced.effects.filter((e) => e.kind === 'alert').map((e) => e.kind === 'alert' && e.code)).to.deep.equal([
        'fenced',
      ]);
      const resumed = step(record('NONE', { episode: episode({ outcome: 'FENCED' }) }), {
        event: 'partition-resume-fenced',
      })!;
      expect(kinds(resumed)).to.not.include('alert');
    });
  });

  describe('deadlineOf', () => {
    it('each waiting state has its own deadline; the others none', () => {
      const t = { activityAt: 1, recheckAt: 2, retryAt: 3, leaseAt: 4, quietUntil: 5 };
      const got = Object.fromEntries(RESOURCE_STATES.map((s) => [s, deadlineOf(s, t)]));
      expect(got).to.deep.equal({
        NONE: undefined,
        INITIALIZING: undefined,
        AVAILABLE: undefined,
        INELIGIBLE: undefined,
        UNSUPPORTED: undefined,
        SUSPECT: 1,
        CHECKING: undefined,
        DEGRADED: 2,
        RECOVERING: 3,
        FENCING: 4,
        FENCED: undefined,
        FAILED: 4,
      });
    });

    it('a gate holds RECOVERING until the later time, FENCING until the earlier', () => {
      expect(deadlineOf('RECOVERING', { retryAt: 10 }, 20)).to.equal(20);
      expect(deadlineOf('RECOVERING', { retryAt: 30 }, 20)).to.equal(30);
      expect(deadlineOf('RECOVERING', {}, 20)).to.equal(20);
      expect(deadlineOf('FENCING', { leaseAt: 10 }, 20)).to.equal(10);
      expect(deadlineOf('FENCING', {}, 20)).to.equal(20);
      expect(deadlineOf('FENCING', {}, undefined)).to.equal(undefined);
    });
  });

  describe('properties', () => {
    const stateArb = fc.constantFrom(...RESOURCE_STATES);
    const eventArb = fc.option(fc.constantFrom(...RESOURCE_EVENTS), { nil: null });
    const episodeArb = fc.option(
      fc.record({
        id: fc.nat(100),
        openedAt: fc.nat(NOW),
        released: fc.boolean(),
        checks: fc.nat(40),
        activeResults: fc.nat(10),
        inactiveStreak: fc.nat(10),
        errorStreak: fc.nat(10),
        recoverAttempts: fc.nat(10),
        degradedAlerted: fc.boolean(),
        ownOff: fc.option(fc.boolean(), { nil: undefined }),
      }),
      { nil: undefined },
    );
    const recordArb = fc.record({
      state: stateArb,
      episode: episodeArb,
      releasedOutside: fc.boolean(),
      version: fc.nat(1000),
      nextEpisode: fc.integer({ min: 1, max: 200 }),
    });
    const inputArb = fc.record({
      event: eventArb,
      release: fc.option(fc.constantFrom('power-off' as const, 'lease' as const), { nil: undefined }),
      quiet: fc.option(fc.boolean(), { nil: undefined }),
      bump: fc.boolean(),
      action: fc.option(fc.record({ id: fc.nat(5), state: stateArb }), { nil: undefined }),
      actionId: fc.option(fc.nat(5), { nil: undefined }),
    });

    it("total, and every decision keeps the engine's promises", () => {
      fc.assert(
        fc.property(recordArb, inputArb, (r, i) => {
          const rec = record(r.state, r);
          const counters = i.bump ? (e: Episode) => ({ ...e, checks: e.checks + 1 }) : undefined;
          const d = decide(
            rec,
            { event: i.event, reason: 'r', release: i.release, quiet: i.quiet, counters, actionId: i.actionId },
            { ...CTX, action: i.action },
          );
          const to = i.event ? resourceTransition(rec.state, i.event) : undefined;
          if (!d) {
            // Nothing written only when nothing changes: no transition, no bookkeeping, no new release.
            expect(to).to.equal(undefined);
            expect(counters).to.equal(undefined);
            return;
          }
          expect(d.record.version).to.equal(rec.version + 1);
          expect(d.record.state).to.equal(to ?? rec.state);
          expect(d.target).to.equal(to);
          // A release only with proof, and only once per episode (or once outside one).
          const releases = d.events.filter((e) => e.type === 'workloads.released');
          if (releases.length) {
            expect(i.release).to.not.equal(undefined);
            expect(releases).to.have.length(1);
            // Recorded in the same write, so the same proof again releases nothing.
            expect(d.record.episode ? d.record.episode.released : d.record.releasedOutside).to.equal(true);
            const again = decide(d.record, { event: null, reason: 'again', release: i.release }, CTX);
            expect(again).to.equal(undefined);
          }
          if (!i.release) expect(releases).to.have.length(0);
          // An open episode from SUSPECT on; closed at AVAILABLE.
          if (to === 'SUSPECT') expect(d.record.episode).to.not.equal(undefined);
          if (to === 'AVAILABLE') expect(d.record.episode).to.equal(undefined);
          // States that wait for a deadline get one when entered.
          if (to === 'SUSPECT') expect(deadlineOf(to, d.record.timers)).to.be.greaterThan(NOW);
          if (to === 'DEGRADED') expect(deadlineOf(to, d.record.timers)).to.equal(NOW + S.degradedRecheck);
          // The state timer is always re-armed after a write; work starts only on a transition.
          expect(d.effects.some((e) => e.kind === 'arm-state-timer')).to.equal(true);
          expect(d.effects.some((e) => e.kind === 'start-work')).to.equal(to !== undefined);
          // The in-flight action is cancelled exactly when its state is left.
          const cancels = d.effects.some((e) => e.kind === 'cancel-action');
          expect(cancels).to.equal(!!i.action && to !== undefined && i.action.state !== to);
          // The input record is never changed.
          expect(rec.version).to.equal(r.version);
        }),
        { numRuns: 2000 },
      );
    });
  });
});

describe('decide: outcome classifiers', () => {
  const settings = { ...S, maxActivityChecks: 3, inactiveChecksToRecover: 2, maxActivityCheckErrors: 2 };
  const ep = (over: Partial<Episode> = {}) => episode({ checks: 5, ...over });

  it('activity verdicts against the streaks', () => {
    const cases: Array<[ActivityResult['verdict'], Partial<Episode>, ResourceEvent, Partial<Episode>]> = [
      ['active', {}, 'activity-active', { checks: 6, activeResults: 1, inactiveStreak: 0, errorStreak: 0 }],
      [
        'active',
        { activeResults: 2, inactiveStreak: 1 },
        'activity-active-limit',
        { activeResults: 3, inactiveStreak: 0 },
      ],
      ['inactive', { errorStreak: 1 }, 'activity-inactive', { checks: 6, inactiveStreak: 1, errorStreak: 0 }],
      ['inactive', { inactiveStreak: 1 }, 'activity-inactive-confirmed', { inactiveStreak: 2 }],
      ['error', { inactiveStreak: 1 }, 'activity-error', { checks: 6, errorStreak: 1, inactiveStreak: 0 }],
      ['error', { errorStreak: 1 }, 'activity-errors-exhausted', { errorStreak: 2 }],
    ];
    for (const [verdict, over, event, after] of cases) {
      const e = ep(over);
      const a = activityStep('h1', e, { verdict }, settings);
      expect(a.event, `${verdict} ${JSON.stringify(over)}`).to.equal(event);
      expect(a.counters(e)).to.deep.include(after);
      expect(a.reason).to.equal(verdict);
      expect(a.alert === undefined).to.equal(event !== 'activity-errors-exhausted');
    }
    expect(activityStep('h1', ep({ errorStreak: 1 }), { verdict: 'error', reason: 'x' }, settings).alert).to.deep.equal(
      {
        kind: 'alert',
        level: 'critical',
        code: 'activity-errors',
        message: 'h1: 2 activity check errors in a row',
      },
    );
  });

  it('a malformed verdict counts as an error, never as "no activity"', () => {
    const a = activityStep('h1', ep({ inactiveStreak: 1 }), { verdict: 'maybe' as 'error' }, settings);
    expect(a.event).to.equal('activity-error');
  });

  it("timer events: SUSPECT and DEGRADED have their own; the others are the actions' business", () => {
    const got = Object.fromEntries(RESOURCE_STATES.map((s) => [s, timerEvent(s)]));
    expect(Object.entries(got).filter(([, e]) => e !== undefined)).to.deep.equal([
      ['SUSPECT', 'activity-due'],
      ['DEGRADED', 'degraded-recheck'],
    ]);
  });

  it('resume events when the partition becomes ACTIVE', () => {
    expect(resumeEvent(undefined, false)).to.equal('partition-active');
    expect(resumeEvent(episode({ outcome: 'FENCED' }), true)).to.equal('partition-resume-fenced');
    expect(resumeEvent(episode({ outcome: 'FAILED' }), true)).to.equal('partition-resume-failed');
    expect(resumeEvent(episode(), true)).to.equal('partition-active');
    expect(resumeEvent(episode(), false)).to.equal('partition-resume-suspect');
    expect(resumeEvent(episode(), undefined)).to.equal('partition-resume-suspect');
    for (const e of [
      'partition-active',
      'partition-resume-fenced',
      'partition-resume-failed',
      'partition-resume-suspect',
    ] as const)
      expect(resourceTransition('NONE', e)).to.not.equal(undefined);
  });
});
