import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors/engine-errors.js';

// Keys that name where a secret lives, not the secret itself.
const SECRET_REFERENCE = /^(passwordEnv|passwordFile|agentTokenFile|secretKeyFile|tokenFile)$/;

/** Options of {@link validateConfig}. */
export interface ValidateConfigOptions {
  /** Where `data` sits in its file (`config`), put before every path of an issue. */
  readonly path?: string;
}

/**
 * Validates `data` against a zod schema. Throws {@link ConfigError} naming every bad
 * field (`hosts.h2.bmc.port`), its value and the rule. Values under secret-like keys are
 * redacted and unknown keys are named without their values: config errors get printed.
 */
export function validateConfig<T>(schema: z.ZodType<T>, data: unknown, options: ValidateConfigOptions = {}): T {
  const result = schema.safeParse(data ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => toIssue(issue, data));
  const at = options.path;
  throw new ConfigError(at ? issues.map((i) => ({ ...i, path: i.path ? `${at}.${i.path}` : at })) : issues);
}

/** Reads a YAML or JSON file (YAML is a superset of JSON); a typed error names the file. */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError([{ path: '(file)', value: path, rule: `cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})` }]);
  }
  try {
    return parseYaml(text) ?? {};
  } catch (cause) {
    throw new ConfigError([{ path: '(file)', value: path, rule: `is not valid YAML/JSON: ${(cause as Error).message}` }]);
  }
}

function toIssue(issue: z.core.$ZodIssue, root: unknown): ConfigIssue {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') return { path, value: issue.keys, rule: `unknown field(s) ${issue.keys.join(', ')}` };
  // A cross-field rule reports the effective value (a default may stand where nothing was written).
  const effective = issue.code === 'custom' ? (issue.params as { value?: unknown } | undefined)?.value : undefined;
  const value = effective ?? ('input' in issue && issue.input !== undefined ? issue.input : valueAt(root, issue.path));
  return { path, value: redactValue(issue.path, value), rule: issue.message };
}

function redactValue(path: readonly PropertyKey[], value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return '{…}';
  const last = String(path[path.length - 1] ?? '');
  return /password|token|secret/i.test(last) && typeof value === 'string' && !SECRET_REFERENCE.test(last) ? '[redacted]' : value;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}
