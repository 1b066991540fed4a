import { expect } from 'chai';
import type { CheckKind, CheckResult, HaEvent } from '@hafence/core';
import { createFakeCluster } from '@hafence/testkit';

interface Seen {
  readonly kind: CheckKind;
  readonly result: CheckResult;
  readonly ms: number;
}

describe('HaService.observe (metrics hooks)', () => {
  it('reports every check with its kind, result and duration on the engine clock, until removed', async () => {
    const c = await createFakeCluster({ hosts: 6, latencyMs: 7, config: { defaults: { healthCheckTimeout: '4s' } } });
    const seen: Seen[] = [];
    const remove = c.service.observe({ checkEnded: (kind, result, ms) => seen.push({ kind, result, ms }) });
    try {
      await c.clock.advance(60_000);
      const healthOk = seen.filter((s) => s.kind === 'health' && s.result === 'ok');
      expect(healthOk.length).to.be.greaterThan(6);
      // the fake provider answers a health check in its latency
      for (const s of healthOk) expect(s.ms).to.equal(7);
      c.provider.host('h2').health = 'hang';
      c.provider.host('h3').crashed = true;
      await c.clock.advance(10 * 60_000);
      const count = (kind: CheckKind, result: CheckResult) =>
        seen.filter((s) => s.kind === kind && s.result === result).length;
      expect(count('health', 'timeout')).to.be.greaterThan(0);
      for (const s of seen.filter((x) => x.result === 'timeout')) expect(s.ms).to.equal(4_000);
      expect(count('health', 'failed')).to.be.greaterThan(0);
      expect(count('activity', 'failed')).to.be.greaterThan(0); // h3: no activity
      expect(count('activity', 'ok')).to.be.greaterThan(0); // h2: only its health hangs
      remove();
      const before = seen.length;
      await c.clock.advance(60_000);
      expect(seen.length).to.equal(before);
    } finally {
      await c.close();
    }
  });

  it('an observer that throws does not stop the engine', async () => {
    const c = await createFakeCluster({ hosts: 2 });
    let calls = 0;
    c.service.observe({
      checkEnded: () => {
        calls++;
        throw new Error('boom');
      },
    });
    try {
      await c.clock.advance(60_000);
      expect(calls).to.be.greaterThan(2);
      expect(c.service.list().every((r) => r.state === 'AVAILABLE')).to.equal(true);
    } finally {
      await c.close();
    }
  });

  it('power.action names its driver and its duration; schedulerStats shows each lane', async () => {
    const c = await createFakeCluster({ hosts: 3 });
    try {
      c.provider.host('h1').crashed = true;
      await c.clock.advance(30 * 60_000);
      const actions = c.events.filter(
        (e): e is Extract<HaEvent, { type: 'power.action' }> => e.type === 'power.action',
      );
      expect(actions.filter((a) => a.action === 'off' && a.ok).length).to.be.greaterThan(0);
      for (const a of actions) {
        expect(a.driver).to.equal('fake');
        expect(a.durationMs).to.be.a('number').and.to.be.at.least(5); // the fake BMC answers in 5 ms
      }
      const stats = c.service.schedulerStats;
      expect(stats.lanes.health.capacity).to.equal(c.service.config.concurrency.health);
      expect(stats.lanes.fence.capacity).to.equal(c.service.config.concurrency.fence);
      expect(stats.lanes.health.busy).to.be.at.least(0);
      expect(stats.queued).to.equal(0);
    } finally {
      await c.close();
    }
  });
});
