import { readConfigFile, validateConfig } from './validate-config.js';
import { DEFAULT_SETTINGS, haConfigSchema, type HaConfig, type HaConfigOptions, type HaSettings } from './schema.js';

/**
 * Validates configuration given in code. Throws {@link ConfigError} naming every bad
 * field, its value and the rule.
 *
 * @example
 * const config = parseConfig({ defaults: { healthCheckInterval: '5s' }, clusters: { c1: { quietPeriod: '60s' } } });
 */
export function parseConfig(options: HaConfigOptions | unknown = {}): HaConfig {
  return validateConfig(haConfigSchema, options);
}

/** Reads a YAML or JSON file (YAML is a superset of JSON) and validates it. */
export function loadConfigFile(path: string): HaConfig {
  return parseConfig(readConfigFile(path));
}

/** Where a resource sits, for resolving overrides. */
export interface SettingsScope {
  readonly zone?: string;
  readonly pod?: string;
  readonly cluster?: string;
  readonly host?: string;
}

/** Effective settings: defaults ← global ← zone ← pod ← cluster ← host (docs/behaviour.md#configuration). */
export function resolveSettings(config: HaConfig, scope: SettingsScope): HaSettings {
  return {
    ...DEFAULT_SETTINGS,
    ...config.defaults,
    ...own(config.zones, scope.zone),
    ...own(config.pods, scope.pod),
    ...own(config.clusters, scope.cluster),
    ...own(config.hosts, scope.host),
  };
}

/** The override of `id`, only when the map itself has it (never a prototype slot such as `constructor`). */
function own<T>(map: Readonly<Record<string, T>>, id: string | undefined): T | undefined {
  return id !== undefined && Object.hasOwn(map, id) ? map[id] : undefined;
}
