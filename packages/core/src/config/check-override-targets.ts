import { ConfigError, type ConfigIssue } from '../errors/engine-errors.js';
import type { Partition, PartitionKind } from '../spi/partition.js';
import { resolveSettings, type SettingsScope } from './load-config.js';
import type { HaConfig, HaSettings } from './schema.js';
import { brokenRules } from './settings-rules.js';

/** What exists, for {@link checkOverrideTargets}: the partitions and the resources. */
export interface ConfigTargets {
  /** Every zone, pod and cluster, with its enclosing partition. */
  readonly partitions: readonly Pick<Partition, 'id' | 'kind' | 'parent'>[];
  /** Every resource (the `hosts` overrides are keyed by resource id) and its partition. */
  readonly resources: readonly { readonly id: string; readonly partition: string }[];
}

/** Options of {@link checkOverrideTargets}. */
export interface CheckOverrideTargetsOptions {
  /** Where the configuration sits in its file (`ha`, `config`), put before every path. */
  readonly path?: string;
}

const KINDS: ReadonlyArray<[PartitionKind, 'zones' | 'pods' | 'clusters']> = [
  ['zone', 'zones'],
  ['pod', 'pods'],
  ['cluster', 'clusters'],
];

/**
 * Checks a validated configuration against what exists (docs/behaviour.md#scheduling-and-guards "Every value is
 * bounded"): an override naming a zone, pod, cluster or host that does not exist is an
 * error naming the field (`clusters.c9`), and the cross-field rules (quietPeriod ≥
 * healthCheckInterval, the recoverTimeout and fenceTimeout floors, …) hold for the
 * effective settings of every partition and resource along its lineage, where overrides
 * of several scopes combine. Throws {@link ConfigError} naming every problem.
 *
 * The schema (`parseConfig`) cannot do this: it does not know the inventory.
 * `hafence serve` and the testkit's scenarios call it once their inventory is known;
 * an embedder of `HaService`, whose partitions and resources arrive at run time, calls
 * it with its inventory before `start()` (and again when it adds partitions or
 * resources that overrides could name).
 *
 * @example
 * checkOverrideTargets(config, {
 *   partitions: [
 *     { id: 'z1', kind: 'zone' },
 *     { id: 'p1', kind: 'pod', parent: 'z1' },
 *     { id: 'c1', kind: 'cluster', parent: 'p1' },
 *   ],
 *   resources: [{ id: 'h1', partition: 'c1' }],
 * });
 */
export function checkOverrideTargets(
  config: HaConfig,
  targets: ConfigTargets,
  options: CheckOverrideTargetsOptions = {},
): void {
  const prefix = options.path ? `${options.path}.` : '';
  const issues = [...unknownTargets(config, targets), ...lineageIssues(config, targets)];
  if (issues.length > 0) throw new ConfigError(issues.map((i) => ({ ...i, path: prefix + i.path })));
}

function unknownTargets(config: HaConfig, targets: ConfigTargets): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [kind, key] of KINDS) {
    const known = new Set(targets.partitions.filter((p) => p.kind === kind).map((p) => p.id));
    for (const id of Object.keys(config[key])) {
      if (!known.has(id)) issues.push({ path: `${key}.${id}`, value: id, rule: `must name an existing ${kind}` });
    }
  }
  const resources = new Set(targets.resources.map((r) => r.id));
  for (const id of Object.keys(config.hosts)) {
    if (!resources.has(id))
      issues.push({ path: `hosts.${id}`, value: id, rule: 'must name an existing host (resource)' });
  }
  return issues;
}

/** Rules broken by overrides of several scopes together (each scope alone passed the schema). */
function lineageIssues(config: HaConfig, targets: ConfigTargets): ConfigIssue[] {
  const byId = new Map(targets.partitions.map((p) => [p.id, p]));
  const scopeOf = (partition: string | undefined, host?: string): SettingsScope => {
    const scope: Record<string, string> = host === undefined ? {} : { host };
    const lookup = (id: string | undefined) => (id === undefined ? undefined : byId.get(id));
    for (let p = lookup(partition), n = 0; p && n < 8; p = lookup(p.parent), n++) {
      scope[p.kind] = p.id;
    }
    return scope;
  };
  const scopes = [
    ...targets.partitions.map((p) => scopeOf(p.id)),
    ...targets.resources.map((r) => scopeOf(r.partition, r.id)),
  ];
  const issues = new Map<string, ConfigIssue>();
  for (const scope of scopes) {
    const settings = resolveSettings(config, scope);
    for (const rule of brokenRules(settings)) {
      const path = nearestWriter(config, scope, rule.reads);
      if (path === undefined) continue; // the global settings alone: the schema reports those
      const where = scope.host ?? scope.cluster ?? scope.pod ?? scope.zone;
      issues.set(`${path}.${rule.field}`, {
        path: `${path}.${rule.field}`,
        value: settings[rule.field],
        rule: `${rule.rule(settings)}, effective for ${where}`,
      });
    }
  }
  return [...issues.values()];
}

/** The override nearest to the resource that writes one of `fields`, as a path (`clusters.c1`). */
function nearestWriter(
  config: HaConfig,
  scope: SettingsScope,
  fields: readonly (keyof HaSettings)[],
): string | undefined {
  const chain: Array<['hosts' | 'clusters' | 'pods' | 'zones', string | undefined]> = [
    ['hosts', scope.host],
    ['clusters', scope.cluster],
    ['pods', scope.pod],
    ['zones', scope.zone],
  ];
  for (const [key, id] of chain) {
    const override = id === undefined || !Object.hasOwn(config[key], id) ? undefined : config[key][id];
    if (override && fields.some((f) => override[f] !== undefined)) return `${key}.${id}`;
  }
  return undefined;
}
