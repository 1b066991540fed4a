import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ScenarioError, type ScenarioIssue } from './scenario-error.js';
import { scenarioSchema, type Scenario } from './scenario-schema.js';

/**
 * Validates a scenario given as data. Throws {@link ScenarioError} naming every bad
 * field (`steps.2.host`), its value and the rule.
 *
 * @example
 * const s = parseScenario({ name: 'crash', hosts: 3, steps: [{ at: '5m', do: 'crash', host: 'h2' }], run: '30m' });
 */
export function parseScenario(data: unknown, source = '(inline)'): Scenario {
  const result = scenarioSchema.safeParse(data);
  if (result.success) return result.data;
  throw new ScenarioError(source, result.error.issues.map((issue) => toIssue(issue, data)));
}

/** Reads a YAML or JSON scenario file and validates it. */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ScenarioError(path, [{ path: '(file)', value: path, rule: `cannot be read: ${(cause as Error).message}` }], { cause });
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (cause) {
    throw new ScenarioError(path, [{ path: '(file)', value: path, rule: `is not valid YAML/JSON: ${(cause as Error).message}` }], { cause });
  }
  return parseScenario(data, path);
}

function toIssue(issue: z.core.$ZodIssue, root: unknown): ScenarioIssue {
  const value = 'input' in issue && issue.input !== undefined ? issue.input : valueAt(root, issue.path);
  return { path: issue.path.map(String).join('.'), value, rule: issue.message };
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const key of path) v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}
