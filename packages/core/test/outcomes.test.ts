import { expect } from 'chai';
import {
  DEFAULT_SETTINGS,
  RESOURCE_STATES,
  TimeoutError,
  resourceTransition,
  type ResourceRecord,
} from '@hafence/core';
import {
  eligibilityEvent,
  fenceStep,
  gateUntil,
  healthEvent,
  leaseStep,
  leftOffStep,
  maintenanceEvent,
  recoverStart,
  recoverStep,
} from '@hafence/core/internal';

/** The engine's pure outcome classifiers: health answers, recovery and fence outcomes → steps. */

const S = { ...DEFAULT_SETTINGS, maxRecoveryAttempts: 2, recoverRetryDelay: 500 };
const NOW = 10_000;

function rec(state: ResourceRecord['state'], quietUntil?: number): ResourceRecord {
  return {
    key: 'host/h1',
    ref: { type: 'host', id: 'h1' },
    partition: 'c1',
    state,
    version: 1,
    since: 0,
    nextEpisode: 1,
    releasedOutside: false,
    timers: quietUntil === undefined ? {} : { quietUntil },
  };
}

const ep = (over: object = {}) => ({
  id: 1,
  openedAt: 0,
  released: false,
  checks: 0,
  activeResults: 0,
  inactiveStreak: 0,
  errorStreak: 0,
  recoverAttempts: 1,
  degradedAlerted: false,
  ...over,
});

describe('engine outcomes (pure classifiers)', () => {
  it('maintenance: start anywhere but INELIGIBLE, end only there', () => {
    for (const s of RESOURCE_STATES) {
      expect(maintenanceEvent(s, true)?.event).to.equal(s === 'INELIGIBLE' ? undefined : 'maintenance-start');
      expect(maintenanceEvent(s, false)?.event).to.equal(s === 'INELIGIBLE' ? 'maintenance-end' : undefined);
    }
  });

  it("eligibility: lost anywhere, regained only from UNSUPPORTED; the verdict's reason carried", () => {
    for (const s of RESOURCE_STATES) {
      expect(eligibilityEvent(s, { ok: false, reason: 'r' })).to.deep.equal({ event: 'eligibility-lost', reason: 'r' });
      expect(eligibilityEvent(s, { ok: true })).to.deep.equal(
        s === 'UNSUPPORTED' ? { event: 'eligibility-regained', reason: 'eligible again' } : undefined,
      );
    }
    expect(eligibilityEvent('AVAILABLE', { ok: false })?.reason).to.equal('not eligible');
  });

  it('health: a failure inside the quiet period after a recovery is quiet, and changes nothing', () => {
    expect(healthEvent(rec('INITIALIZING', NOW + 1), { healthy: false }, NOW)).to.deep.equal({
      event: 'health-failed-quiet',
      reason: 'health check failed',
    });
    expect(resourceTransition('INITIALIZING', 'health-failed-quiet')).to.equal(undefined);
    expect(healthEvent(rec('INITIALIZING', NOW), { healthy: false }, NOW).event).to.equal('health-failed');
    expect(healthEvent(rec('AVAILABLE', NOW + 1), { healthy: false, reason: 'x' }, NOW)).to.deep.equal({
      event: 'health-failed',
      reason: 'x',
    });
    expect(healthEvent(rec('SUSPECT'), { healthy: true }, NOW)).to.deep.equal({
      event: 'health-passed',
      reason: 'health check passed',
    });
  });

  describe('recovery outcomes', () => {
    const notSent = { onSent: false };
    it('success enters a quiet INITIALIZING', () => {
      expect(recoverStep({ kind: 'ok', value: { ok: true } }, notSent, ep(), S, NOW)).to.deep.equal({
        kind: 'apply',
        event: 'recover-succeeded',
        reason: 'recovery steps done',
        quiet: true,
      });
    });
    it('a failure after its power-on was acknowledged is a success (only the read-back ran out)', () => {
      const s = recoverStep(
        { kind: 'timeout', error: new TimeoutError('recover', 1) },
        { onSent: true, onAcked: true },
        ep({ ownOff: true }),
        S,
        NOW,
      );
      expect(s).to.deep.include({ kind: 'apply', event: 'recover-succeeded', quiet: true });
      expect(s.kind === 'apply' && s.reason).to.equal('recovery timed out after its power-on was acknowledged');
    });
    it('after its own stop command: never retried from scratch, one read decides', () => {
      expect(
        recoverStep({ kind: 'error', error: new Error('boom') }, { onSent: true }, ep({ ownOff: true }), S, NOW),
      ).to.deep.equal({
        kind: 'finish-left-off',
        why: 'recovery failed: boom after its own stop command',
        onSent: true,
      });
    });
    it('otherwise retried after the delay until the attempts are used up', () => {
      expect(recoverStep({ kind: 'ok', value: { ok: false } }, notSent, ep(), S, NOW)).to.deep.equal({
        kind: 'apply',
        event: 'recover-failed',
        reason: 'recovery failed',
        timers: { retryAt: NOW + 500 },
      });
      expect(
        recoverStep({ kind: 'ok', value: { ok: false, reason: 'no' } }, notSent, ep({ recoverAttempts: 2 }), S, NOW),
      ).to.deep.equal({
        kind: 'apply',
        event: 'recover-exhausted',
        reason: 'no; 2 attempt(s) used',
      });
    });
  });

  describe('fence outcomes', () => {
    it('"off" is proof only with the engine\'s own read of OFF', () => {
      expect(fenceStep({ kind: 'ok', value: { outcome: 'off' } }, true)).to.deep.equal({
        kind: 'fenced',
        reason: 'power verified OFF',
      });
      expect(fenceStep({ kind: 'ok', value: { outcome: 'off' } }, false)).to.deep.equal({
        kind: 'lease-route',
        why: 'provider reported OFF without a status read of OFF (not proof)',
      });
    });
    it('anything else goes to the lease route, saying why', () => {
      expect(fenceStep({ kind: 'ok', value: { outcome: 'unreachable' } }, true)).to.deep.equal({
        kind: 'lease-route',
        why: 'unreachable',
      });
      expect(fenceStep({ kind: 'ok', value: { outcome: 'failed', reason: 'r' } }, true)).to.deep.equal({
        kind: 'lease-route',
        why: 'r',
      });
      expect(fenceStep({ kind: 'timeout', error: new TimeoutError('recover', 1) }, true)).to.deep.equal({
        kind: 'lease-route',
        why: 'fence timed out',
      });
      expect(fenceStep({ kind: 'error', error: 'x' }, true)).to.deep.equal({
        kind: 'lease-route',
        why: 'fence failed: x',
      });
    });
  });

  describe('the self-fence lease', () => {
    const L = { ...S, leaseWaitMax: 60_000, degradedRecheck: 30_000 };
    it('an expired lease fences, with the lease as proof', () => {
      expect(leaseStep('FENCING', { state: 'expired', evidence: 'e' }, 'w', false, L, NOW)).to.deep.equal({
        event: 'fence-lease-expired',
        reason: 'w; self-fence lease expired: e',
        release: 'lease',
        timers: { leaseAt: undefined },
      });
    });
    it('a pending lease close enough is waited for once, never sooner than a second', () => {
      expect(leaseStep('FENCING', { state: 'pending', deadline: NOW + 10 }, 'w', false, L, NOW)).to.deep.equal({
        event: null,
        reason: 'w; waiting for the self-fence lease',
        timers: { leaseAt: NOW + 1000 },
      });
      expect(
        leaseStep('FENCING', { state: 'pending', deadline: NOW + 50_000 }, 'w', false, L, NOW).timers,
      ).to.deep.equal({ leaseAt: NOW + 50_000 });
    });
    it('in FENCING anything else fails: bounded, one wait only', () => {
      const far = leaseStep('FENCING', { state: 'pending', deadline: NOW + 60_001 }, 'w', false, L, NOW);
      expect(far).to.deep.equal({
        event: 'fence-failed',
        reason: 'w; lease deadline too far',
        timers: { leaseAt: undefined },
      });
      const again = leaseStep('FENCING', { state: 'pending', deadline: NOW + 10 }, 'w', true, L, NOW);
      expect(again.event).to.equal('fence-failed');
      expect(again.reason).to.equal('w; lease not expired at its deadline');
      expect(leaseStep('FENCING', { state: 'none', reason: 'no lease' }, 'w', false, L, NOW).reason).to.equal(
        'w; no lease',
      );
    });
    it('in FAILED the lease is watched on', () => {
      expect(leaseStep('FAILED', { state: 'none', reason: 'r' }, 'w', true, L, NOW)).to.deep.equal({
        event: null,
        reason: 'lease not expired',
        timers: { leaseAt: NOW + 30_000 },
      });
    });
  });

  describe('a recovery left between its stop and a confirmed power-on', () => {
    const c = (over: object = {}) => ({ onSent: false, beforeAttempt: false, attempts: 1, ...over });
    it('ON before a new attempt: the attempt goes ahead, our OFF is over', () => {
      expect(leftOffStep('ON', 'w', c({ beforeAttempt: true }), S, NOW)).to.deep.equal({
        event: null,
        reason: 'w; power read ON',
        clearOwnOff: true,
      });
    });
    it('ON after our power-on was sent: it landed, quiet INITIALIZING', () => {
      const step = leftOffStep('ON', 'w', c({ onSent: true }), S, NOW);
      expect(step).to.include({ event: 'recover-succeeded', quiet: true, clearOwnOff: true });
      expect(resourceTransition('RECOVERING', step.event!)).to.equal('INITIALIZING');
    });
    it('ON without our power-on: a failed attempt, retried while attempts last', () => {
      expect(leftOffStep('ON', 'w', c(), S, NOW)).to.deep.include({
        event: 'recover-failed',
        timers: { retryAt: NOW + 500 },
      });
      const last = leftOffStep('ON', 'w', c({ attempts: 2 }), S, NOW);
      expect(last.event).to.equal('recover-exhausted');
      expect(last.timers).to.equal(undefined);
    });
    it('OFF is left OFF: released with the read as proof and an alert, own OFF kept', () => {
      for (const beforeAttempt of [false, true]) {
        expect(leftOffStep('OFF', 'w', c({ beforeAttempt, onSent: true }), S, NOW)).to.deep.equal({
          event: 'power-off-observed',
          reason: 'left OFF: w; power read OFF',
          clearOwnOff: false,
          release: 'power-off',
          leftOff: true,
        });
      }
    });
    it('unreadable: fencing decides; never a release, never a retry', () => {
      const step = leftOffStep('UNKNOWN', 'w', c({ onSent: true }), S, NOW);
      expect(step).to.deep.equal({
        event: 'recover-exhausted',
        reason: 'w; power unreadable: fencing decides by a read of OFF or the lease',
        clearOwnOff: false,
      });
      expect(resourceTransition('RECOVERING', 'recover-exhausted')).to.equal('FENCING');
    });
  });

  describe('a due recovery', () => {
    const r = (episode: object, timers: object = {}) => ({ ...rec('RECOVERING'), episode: ep(episode), timers });
    it('attempts used up → exhausted, before anything else', () => {
      expect(recoverStart(r({ recoverAttempts: 2, ownOff: true }), S, NOW)).to.deep.equal({
        kind: 'exhausted',
        reason: '2 recovery attempt(s) used in this episode',
      });
    });
    it('our own OFF of an earlier attempt is read first, even before the retry delay', () => {
      expect(recoverStart(r({ ownOff: true }, { retryAt: NOW + 1 }), S, NOW).kind).to.equal('left-off-first');
    });
    it('waits for the retry delay, then attempts', () => {
      expect(recoverStart(r({}, { retryAt: NOW + 1 }), S, NOW).kind).to.equal('wait');
      expect(recoverStart(r({}, { retryAt: NOW }), S, NOW).kind).to.equal('attempt');
      expect(recoverStart(rec('RECOVERING'), S, NOW).kind).to.equal('attempt');
    });
  });

  describe('the recovery and fence gate', () => {
    it('startup grace holds until its end; self-doubt one health interval at a time; else open', () => {
      expect(gateUntil(NOW, { graceEnd: NOW + 1, selfDoubting: true }, S)).to.equal(NOW + 1);
      expect(gateUntil(NOW, { graceEnd: NOW, selfDoubting: true }, S)).to.equal(NOW + S.healthCheckInterval);
      expect(gateUntil(NOW, { graceEnd: NOW, selfDoubting: false }, S)).to.equal(undefined);
    });
  });
});
