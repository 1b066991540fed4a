import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors/engine-errors.js';
import { DEFAULT_SETTINGS, haConfigSchema, type HaConfig, type HaConfigOptions, type HaSettings } from './schema.js';

/**
 * Validates configuration given in code. Throws {@link ConfigError} naming every bad
 * field, its value and the rule.
 *
 * @example
 * const config = parseConfig({ defaults: { healthCheckInterval: '5s' }, clusters: { c1: { quietPeriod: '60s' } } });
 */
export function parseConfig(options: HaConfigOptions | unknown = {}): HaConfig {
  const result = haConfigSchema.safeParse(options ?? {});
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((issue) => toIssue(issue, options)));
}

/** Reads a YAML or JSON file (YAML is a superset of JSON) and validates it. */
export function loadConfigFile(path: string): HaConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError([{ path: '(file)', value: path, rule: `cannot be read: ${(cause as Error).message}` }]);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (cause) {
    throw new ConfigError([{ path: '(file)', value: path, rule: `is not valid YAML/JSON: ${(cause as Error).message}` }]);
  }
  return parseConfig(data ?? {});
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

function toIssue(issue: z.core.$ZodIssue, root: unknown): ConfigIssue {
  const path = issue.path.map(String).join('.');
  const value = 'input' in issue && issue.input !== undefined ? issue.input : valueAt(root, issue.path);
  return { path, value, rule: issue.message };
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}
