import { expect } from 'chai';
import type { EngineObserver, HaEvent, SchedulerStats } from '@hafence/core';
import { createMetrics, type MetricsPartitionView, type MetricsSource } from '@hafence/operator';
import { parsePromText, sampleValue, samplesOf } from './helpers/prom-text.js';

/** A hand-driven engine: events and check hooks fired by the test, views it sets. */
class ScriptedSource implements MetricsSource {
  readonly listeners = new Set<(e: HaEvent) => void>();
  readonly observers = new Set<EngineObserver>();
  partitions: MetricsPartitionView[] = [];
  readonly events$ = {
    subscribe: (next: (e: HaEvent) => void) => {
      this.listeners.add(next);
      return { unsubscribe: () => this.listeners.delete(next) };
    },
  };
  readonly schedulerStats: SchedulerStats = {
    queued: 0,
    shed: 0,
    lanes: {
      health: { busy: 0, capacity: 1 },
      activity: { busy: 0, capacity: 1 },
      recover: { busy: 0, capacity: 1 },
      fence: { busy: 0, capacity: 1 },
    },
  };
  observe(o: EngineObserver): () => void {
    this.observers.add(o);
    return () => this.observers.delete(o);
  }
  describeResources() {
    return [];
  }
  describePartitions() {
    return this.partitions;
  }
  fenceBudgets() {
    return [];
  }
  emit(e: HaEvent): void {
    for (const l of this.listeners) l(e);
  }
}

describe('HaMetrics counters (hand-driven events)', () => {
  it('counts unsent commands under driver "none", would-be actions by action, observe-only and leases from the views', async () => {
    const source = new ScriptedSource();
    const metrics = createMetrics(source);
    source.emit({ t: 1, type: 'power.action', host: 'h1', action: 'off', by: 'ha', ok: false, error: 'not sent' });
    source.emit({
      t: 2,
      type: 'power.action',
      host: 'h1',
      action: 'on',
      by: 'ha',
      ok: true,
      driver: 'ipmi',
      durationMs: 1500,
    });
    source.emit({
      t: 3,
      type: 'would.power.action',
      host: 'h2',
      resource: 'h2',
      resourceType: 'host',
      action: 'off',
      by: 'ha',
    });
    source.emit({
      t: 4,
      type: 'would.power.action',
      host: 'h3',
      resource: 'h3',
      resourceType: 'host',
      action: 'off',
      by: 'ha',
    });
    for (const o of source.observers) o.checkEnded?.('activity', 'timeout', 20_000);
    source.partitions = [
      { id: 'c1', state: 'ACTIVE', observeOnly: true, lease: { held: true } },
      { id: 'c2', state: 'INACTIVE', observeOnly: false, lease: { held: false } },
    ];
    const f = parsePromText(await metrics.metrics());
    expect(
      sampleValue(f, 'hafence_power_commands_total', { driver: 'none', action: 'off', result: 'failed' }),
    ).to.equal(1);
    expect(sampleValue(f, 'hafence_power_commands_total', { driver: 'ipmi', action: 'on', result: 'ok' })).to.equal(1);
    // an unsent command has no duration
    expect(samplesOf(f, 'hafence_power_command_duration_seconds_count').map((s) => s.labels)).to.deep.equal([
      { driver: 'ipmi', action: 'on' },
    ]);
    expect(
      sampleValue(f, 'hafence_power_command_duration_seconds_bucket', { driver: 'ipmi', action: 'on', le: '1' }),
    ).to.equal(0);
    expect(
      sampleValue(f, 'hafence_power_command_duration_seconds_bucket', { driver: 'ipmi', action: 'on', le: '2.5' }),
    ).to.equal(1);
    expect(sampleValue(f, 'hafence_would_power_actions_total', { action: 'off' })).to.equal(2);
    expect(sampleValue(f, 'hafence_events_total', { type: 'would.power.action' })).to.equal(2);
    expect(sampleValue(f, 'hafence_checks_total', { kind: 'activity', result: 'timeout' })).to.equal(1);
    expect(sampleValue(f, 'hafence_check_duration_seconds_bucket', { kind: 'activity', le: '10' })).to.equal(0);
    expect(sampleValue(f, 'hafence_check_duration_seconds_bucket', { kind: 'activity', le: '30' })).to.equal(1);
    expect(sampleValue(f, 'hafence_check_duration_seconds_sum', { kind: 'activity' })).to.equal(20);
    expect(sampleValue(f, 'hafence_observe_only')).to.equal(1);
    expect(sampleValue(f, 'hafence_partition_lease_held', { partition: 'c1' })).to.equal(1);
    expect(sampleValue(f, 'hafence_partition_lease_held', { partition: 'c2' })).to.equal(0);
    expect(sampleValue(f, 'hafence_partition_state', { partition: 'c2', state: 'INACTIVE' })).to.equal(1);
    metrics.close();
    expect(source.listeners.size).to.equal(0);
    expect(source.observers.size).to.equal(0);
  });
});
