import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { createFakeCluster, type FakeCluster } from '@hafence/testkit';
import { createMetrics, type HaMetrics } from '@hafence/operator';
import { parsePromText } from './helpers/prom-text.js';

/** The repository's `examples/monitoring`, found upwards from this file. */
function monitoringDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'examples', 'monitoring'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('examples/monitoring not found');
    dir = up;
  }
  return join(dir, 'examples', 'monitoring');
}

interface Selector {
  readonly metric: string;
  readonly labels: readonly string[];
}

/** Every `hafence_…` metric a PromQL expression names, with the label names of its `{…}` matchers. */
function selectors(expr: string): Selector[] {
  const out: Selector[] = [];
  for (const m of expr.matchAll(/\b(hafence_[a-zA-Z0-9_]+)(\{([^}]*)\})?/g)) {
    const labels = [...(m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)].map((l) => l[1]!);
    out.push({ metric: m[1]!, labels });
  }
  return out;
}

interface Rule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: { readonly severity: string };
  readonly annotations: { readonly summary: string; readonly description: string };
}

describe('examples/monitoring (Grafana dashboard, Prometheus alert rules)', () => {
  let c: FakeCluster;
  let metrics: HaMetrics;
  let families: Map<string, { type: string }>;
  before(async () => {
    c = await createFakeCluster({ hosts: 3 });
    metrics = createMetrics(c.service);
    await c.clock.advance(60_000);
    families = parsePromText(await metrics.metrics());
  });
  after(async () => {
    metrics.close();
    await c.close();
  });

  /** Checks that `s` names a metric of the registry, with label names it has. */
  function known(s: Selector, where: string): void {
    const histogram = /^(.*)_(bucket|sum|count)$/.exec(s.metric);
    const family =
      families.get(s.metric) ?? (histogram && families.get(histogram[1]!)?.type === 'histogram' ? histogram[1] : null);
    expect(family, `${where}: ${s.metric} is not a metric of the registry`).to.not.equal(null);
    expect(family, `${where}: ${s.metric} is not a metric of the registry`).to.not.equal(undefined);
    const name = typeof family === 'string' ? family : s.metric;
    const metric = metrics.registry.getSingleMetric(name) as unknown as { labelNames?: readonly string[] };
    const allowed = new Set([
      ...(metric.labelNames ?? []),
      ...(histogram && s.metric.endsWith('_bucket') ? ['le'] : []),
    ]);
    for (const l of s.labels) expect(allowed.has(l), `${where}: ${s.metric} has no label ${l}`).to.equal(true);
  }

  it('the dashboard queries only metrics (and labels) the registry has', () => {
    const dashboard = JSON.parse(readFileSync(join(monitoringDir(), 'grafana-dashboard.json'), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    expect(dashboard.panels.length).to.be.greaterThan(10);
    const used = new Set<string>();
    for (const p of dashboard.panels) {
      expect(p.targets.length, p.title).to.be.greaterThan(0);
      for (const t of p.targets) {
        const found = selectors(t.expr);
        expect(found.length, `${p.title}: ${t.expr}`).to.be.greaterThan(0);
        for (const s of found) {
          known(s, p.title);
          used.add(s.metric.replace(/_(bucket|sum|count)$/, ''));
        }
      }
    }
    // every metric of the table is on the dashboard
    for (const name of families.keys()) expect(used.has(name), `${name} has no panel`).to.equal(true);
  });

  it('alerts.yml parses as Prometheus rule groups and names only metrics (and labels) the registry has', () => {
    const doc = parse(readFileSync(join(monitoringDir(), 'alerts.yml'), 'utf8')) as { groups: unknown };
    expect(doc.groups).to.be.an('array').with.length.greaterThan(0);
    const alerts = new Set<string>();
    for (const group of doc.groups as { name: unknown; rules: unknown }[]) {
      expect(group.name).to.be.a('string');
      expect(group.rules).to.be.an('array');
      for (const rule of group.rules as Rule[]) {
        expect(Object.keys(rule).every((k) => ['alert', 'expr', 'for', 'labels', 'annotations'].includes(k))).to.equal(
          true,
        );
        expect(rule.alert).to.match(/^[A-Za-z][A-Za-z0-9_]*$/);
        expect(rule.expr).to.be.a('string');
        if (rule.for !== undefined) expect(rule.for).to.match(/^\d+[smhdw]$/);
        expect(rule.labels.severity).to.be.oneOf(['info', 'warning', 'critical']);
        expect(rule.annotations.summary).to.be.a('string');
        expect(rule.annotations.description).to.be.a('string');
        alerts.add(rule.alert);
        for (const s of selectors(rule.expr)) known(s, rule.alert);
      }
    }
    for (const a of [
      'HafenceScrapeDown',
      'HafenceFencingHalted',
      'HafenceStorm',
      'HafenceResourcesFailed',
      'HafenceResourcesDegraded',
      'HafenceChecksTimingOut',
      'HafenceLeaseLost',
    ])
      expect(alerts.has(a), a).to.equal(true);
  });

  it('the drift check catches an unknown metric or label', () => {
    expect(() => known({ metric: 'hafence_resource', labels: [] }, 'probe')).to.throw();
    expect(() => known({ metric: 'hafence_resources', labels: ['host'] }, 'probe')).to.throw();
    expect(() =>
      known({ metric: 'hafence_check_duration_seconds_bucket', labels: ['le', 'kind'] }, 'probe'),
    ).not.to.throw();
  });
});
