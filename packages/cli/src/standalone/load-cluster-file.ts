import { readFileSync } from 'node:fs';
import { ConfigError, type ConfigIssue } from '@hafence/core';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { clusterFileSchema, type ClusterFile } from './cluster-schema.js';

/**
 * Validates a cluster file given as data. Throws {@link ConfigError} naming every bad
 * field (`hosts.h2.bmc.port`), its value and the rule; nothing is started.
 *
 * @example
 * const file = parseClusterFile({ agentTokenFile: '/etc/hafence/agent.token', zones: { z1: {} }, … });
 */
export function parseClusterFile(data: unknown): ClusterFile {
  const result = clusterFileSchema.safeParse(data ?? {});
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map((issue) => toIssue(issue, data)));
}

/** Reads a YAML or JSON cluster file (YAML is a superset of JSON) and validates it. */
export function loadClusterFile(path: string): ClusterFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError([{ path: '(file)', value: path, rule: `cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})` }]);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (cause) {
    throw new ConfigError([{ path: '(file)', value: path, rule: `is not valid YAML/JSON: ${(cause as Error).message}` }]);
  }
  return parseClusterFile(data);
}

function toIssue(issue: z.core.$ZodIssue, root: unknown): ConfigIssue {
  const path = issue.path.map(String).join('.');
  // Unknown keys are named, never echoed with their values (a `password:` key must not reach a log).
  if (issue.code === 'unrecognized_keys') return { path, value: issue.keys, rule: `unknown field(s) ${issue.keys.join(', ')}` };
  const value = 'input' in issue && issue.input !== undefined ? issue.input : valueAt(root, issue.path);
  return { path, value: redactValue(issue.path, value), rule: issue.message };
}

/** Objects are summarised and values under secret-like keys redacted: errors are printed. */
function redactValue(path: readonly PropertyKey[], value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return '{…}';
  const last = String(path[path.length - 1] ?? '');
  return /password|token|secret/i.test(last) && typeof value === 'string' && !/^(passwordEnv|passwordFile|agentTokenFile|secretKeyFile)$/.test(last) ? '[redacted]' : value;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}
