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

/** Effective settings: defaults ← global ← zone ← pod ← cluster ← host (SPEC §9). */
export function resolveSettings(config: HaConfig, scope: SettingsScope): HaSettings {
  return {
    ...DEFAULT_SETTINGS,
    ...config.defaults,
    ...(scope.zone ? config.zones[scope.zone] : undefined),
    ...(scope.pod ? config.pods[scope.pod] : undefined),
    ...(scope.cluster ? config.clusters[scope.cluster] : undefined),
    ...(scope.host ? config.hosts[scope.host] : undefined),
  };
}
