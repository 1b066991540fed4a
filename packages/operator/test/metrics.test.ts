import { expect } from 'chai';
import type { CheckKind, CheckResult, HaEvent } from '@hafence/core';
import { createFakeCluster, type FakeCluster } from '@hafence/testkit';
import { createMetrics, type HaMetrics } from '@hafence/operator';
import { parsePromText, sampleValue, samplesOf, type PromFamily } from './helpers/prom-text.js';

async function scrape(m: HaMetrics): Promise<Map<string, PromFamily>> {
  return parsePromText(await m.metrics());
}

function countBy<T>(items: readonly T[], key: (t: T) => string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const i of items) {
    const k = key(i);
    if (k !== undefined) out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

/**
 * A cluster with metrics; `h1` crashes after 2 min and is recovered by power (off, on) — a
 * fence budget slot used and a release; then `h2`'s BMC stops answering (an alert, power UNKNOWN).
 */
async function crashAndRecover(hosts: number) {
  const c = await createFakeCluster({ hosts });
  const offset = c.events.length;
  const metrics = createMetrics(c.service);
  const checks: { kind: CheckKind; result: CheckResult }[] = [];
  c.service.observe({ checkEnded: (kind, result) => checks.push({ kind, result }) });
  await c.clock.advance(2 * 60_000);
  const before = await scrape(metrics);
  c.provider.host('h1').crashed = true;
  await c.clock.advance(30 * 60_000);
  c.driver.host('h2').fault = 'down';
  await c.clock.advance(10 * 60_000);
  return { c, metrics, offset, checks, before };
}

describe('HaMetrics', () => {
  let c: FakeCluster | undefined;
  let metrics: HaMetrics | undefined;
  afterEach(async () => {
    metrics?.close();
    await c?.close();
    c = undefined;
    metrics = undefined;
  });

  it('after a crash and recovery the figures match the engine state and its events', async () => {
    const run = await crashAndRecover(6);
    ({ c, metrics } = run);
    const events = c.events.slice(run.offset);
    const f = await scrape(metrics);
    const details = c.service.describeResources();

    // It went through fencing, release and recovery.
    const released = events.filter((e) => e.type === 'workloads.released');
    expect(released.map((e) => e.type === 'workloads.released' && e.proof)).to.deep.equal(['power-off']);
    expect(c.service.resource({ type: 'host', id: 'h1' }).state).to.equal('AVAILABLE');

    // resources by partition and state = the read model
    const byState = countBy(details, (d) => `${d.partition}/${d.state}`);
    const resources = samplesOf(f, 'hafence_resources');
    expect(new Map(resources.map((s) => [`${s.labels.partition}/${s.labels.state}`, s.value]))).to.deep.equal(byState);
    expect(sampleValue(f, 'hafence_resources', { partition: 'c1', state: 'AVAILABLE' })).to.equal(6);

    // partition states, power states
    expect(sampleValue(f, 'hafence_partition_state', { partition: 'c1', state: 'ACTIVE' })).to.equal(1);
    expect(sampleValue(f, 'hafence_partition_state', { partition: 'c1', state: 'INACTIVE' })).to.equal(0);
    expect(sampleValue(f, 'hafence_hosts_by_power_state', { state: 'ON' })).to.equal(5);
    expect(sampleValue(f, 'hafence_hosts_by_power_state', { state: 'OFF' })).to.equal(0);
    expect(sampleValue(f, 'hafence_hosts_by_power_state', { state: 'UNKNOWN' })).to.equal(1);
    expect(countBy(details, (d) => d.power).get('UNKNOWN')).to.equal(1);

    // checks: the engine's own hook counted the same, failures among them
    for (const [key, n] of countBy(run.checks, (x) => `${x.kind}/${x.result}`)) {
      const [kind, result] = key.split('/') as [string, string];
      expect(sampleValue(f, 'hafence_checks_total', { kind, result }), key).to.equal(n);
    }
    expect(sampleValue(f, 'hafence_checks_total', { kind: 'health', result: 'failed' })).to.be.greaterThan(0);
    expect(sampleValue(f, 'hafence_checks_total', { kind: 'activity', result: 'failed' })).to.be.greaterThan(0);
    expect(sampleValue(f, 'hafence_check_duration_seconds_count', { kind: 'health' })).to.equal(
      run.checks.filter((x) => x.kind === 'health').length,
    );

    // power commands by driver and action, as the power.action events say
    const actions = events.filter((e): e is Extract<HaEvent, { type: 'power.action' }> => e.type === 'power.action');
    expect(actions.some((a) => a.action === 'off' && a.ok)).to.equal(true);
    for (const [key, n] of countBy(actions, (a) => `${a.driver}/${a.action}/${a.ok ? 'ok' : 'failed'}`)) {
      const [driver, action, result] = key.split('/') as [string, string, string];
      expect(driver).to.equal('fake');
      expect(sampleValue(f, 'hafence_power_commands_total', { driver, action, result }), key).to.equal(n);
      expect(sampleValue(f, 'hafence_power_command_duration_seconds_count', { driver, action })).to.equal(n);
    }

    // releases by proof
    expect(sampleValue(f, 'hafence_releases_total', { proof: 'power-off' })).to.equal(1);

    // the fence budget: the stop took one; figures = fenceBudgets()
    const remainingBefore = sampleValue(run.before, 'hafence_fence_budget_remaining', { scope: 'c1' });
    expect(sampleValue(f, 'hafence_fence_budget_remaining', { scope: 'c1' })).to.equal(remainingBefore - 1);
    for (const b of c.service.fenceBudgets()) {
      expect(sampleValue(f, 'hafence_fence_budget_remaining', { scope: b.scope })).to.equal(b.limit - b.used);
      expect(sampleValue(f, 'hafence_fencing_halted', { scope: b.scope })).to.equal(b.halted ? 1 : 0);
    }

    // alerts and events, counted from the metrics' creation on
    const alerts = countBy(events, (e) => (e.type === 'alert' ? `${e.code}/${e.level}` : undefined));
    expect(alerts.get('controller-unreachable/warning') ?? alerts.get('controller-unreachable/critical')).to.equal(1);
    for (const [key, n] of alerts) {
      const [code, level] = key.split('/') as [string, string];
      expect(sampleValue(f, 'hafence_alerts_total', { code, level }), key).to.equal(n);
    }
    const types = countBy(events, (e) => e.type);
    expect(new Map(samplesOf(f, 'hafence_events_total').map((s) => [s.labels.type, s.value]))).to.deep.equal(types);

    // scheduler, observe-only, leases (one server: none)
    const stats = c.service.schedulerStats;
    expect(sampleValue(f, 'hafence_scheduler_queued')).to.equal(stats.queued);
    expect(sampleValue(f, 'hafence_scheduler_shed_total')).to.equal(stats.shed);
    expect(sampleValue(f, 'hafence_lane_capacity', { lane: 'fence' })).to.equal(c.service.config.concurrency.fence);
    expect(sampleValue(f, 'hafence_lane_busy', { lane: 'health' })).to.equal(stats.lanes.health.busy);
    expect(sampleValue(f, 'hafence_observe_only')).to.equal(0);
    expect(samplesOf(f, 'hafence_partition_lease_held')).to.deep.equal([]);
  });

  it('has the same series with 6 hosts as with 60: no label per host', async () => {
    const series = async (hosts: number) => {
      const run = await crashAndRecover(hosts);
      const f = await scrape(run.metrics);
      run.metrics.close();
      await run.c.close();
      const out = new Set<string>();
      for (const family of f.values()) {
        for (const s of family.samples) {
          const { le: _le, ...labels } = s.labels;
          for (const v of Object.values(labels)) expect(v, `${s.name} label`).not.to.match(/^h\d+$/);
          out.add(`${s.name}${JSON.stringify(labels)}`);
        }
      }
      return out;
    };
    const small = await series(6);
    const large = await series(60);
    expect([...large].sort()).to.deep.equal([...small].sort());
    expect(small.size).to.be.lessThan(400);
  });

  it('close() stops counting', async () => {
    c = await createFakeCluster({ hosts: 3 });
    metrics = createMetrics(c.service);
    await c.clock.advance(60_000);
    const first = await scrape(metrics);
    const checks = sampleValue(first, 'hafence_checks_total', { kind: 'health', result: 'ok' });
    expect(checks).to.be.greaterThan(0);
    metrics.close();
    await c.clock.advance(60_000);
    const after = await scrape(metrics);
    expect(sampleValue(after, 'hafence_checks_total', { kind: 'health', result: 'ok' })).to.equal(checks);
  });

  it('uses a registry of its own; process metrics are opt-in and prefixed', async () => {
    c = await createFakeCluster({ hosts: 2 });
    const plain = createMetrics(c.service);
    const withProcess = createMetrics(c.service, { processMetrics: true });
    try {
      expect(plain.registry).not.to.equal(withProcess.registry);
      expect(plain.contentType).to.match(/^text\/plain; version=0\.0\.4/);
      const p = await scrape(plain);
      expect([...p.keys()].every((n) => n.startsWith('hafence_') && !n.startsWith('hafence_process_'))).to.equal(true);
      const w = await scrape(withProcess);
      expect([...w.keys()].some((n) => n.startsWith('hafence_process_'))).to.equal(true);
    } finally {
      plain.close();
      withProcess.close();
    }
  });

  it("a scrape reads the engine's resource counts, no detail per resource, and prints what the details would", async () => {
    const run = await crashAndRecover(6);
    ({ c, metrics } = run);
    const service = run.c.service;
    // A second cluster whose hosts this engine does not run (no provider of its kind: NONE, counted all the same).
    await service.addPartition({ id: 'other', kind: 'rack', parent: 'p1', enabled: true, haEnabled: true });
    for (const id of ['r1', 'r2']) await service.addResource({ ref: { type: 'host', id }, partition: 'other' });
    run.c.provider.host('h3').crashed = true;
    await run.c.clock.advance(15_000); // h3 SUSPECT: three states across two partitions
    let details = 0;
    const counted = {
      events$: service.events$,
      get schedulerStats() {
        return service.schedulerStats;
      },
      observe: (o: Parameters<typeof service.observe>[0]) => service.observe(o),
      describeResources: () => {
        details++;
        return service.describeResources();
      },
      resourceCounts: () => service.resourceCounts(),
      describePartitions: () => service.describePartitions(),
      fenceBudgets: () => service.fenceBudgets(),
    };
    const { resourceCounts: _unused, ...detailed } = counted;
    const viaCounts = createMetrics(counted);
    const viaDetails = createMetrics(detailed);
    try {
      const gauges = (text: string) =>
        text.split('\n').filter((l) => /^hafence_(resources|hosts_by_power_state)\b/.test(l));
      const text = gauges(await viaCounts.metrics());
      expect(details, 'describeResources() calls').to.equal(0);
      expect(text).to.deep.equal(gauges(await viaDetails.metrics()));
      expect(text).to.include.members([
        'hafence_resources{partition="c1",state="SUSPECT"} 1',
        'hafence_resources{partition="other",state="NONE"} 2',
      ]);
    } finally {
      viaCounts.close();
      viaDetails.close();
    }
  });
});
