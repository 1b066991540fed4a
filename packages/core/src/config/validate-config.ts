import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors/engine-errors.js';
import { capShown, isReservedKey } from './safe-values.js';

// Keys whose value may be a secret: never shown. That includes where a secret lives
// (`passwordEnv`, `agentTokenFile`): a value that breaks their rule is most likely the
// secret itself, pasted in the wrong place.
const SECRET_FIELD = /pass|secret|token|key|cred|auth|private|community|^args$|^stdin$|agentOptions/i;
/** Nesting followed when looking for reserved keys; deeper data is refused by the schemas anyway. */
const MAX_DEPTH = 64;

/** Options of {@link validateConfig}. */
export interface ValidateConfigOptions {
  /** Where `data` sits in its file (`config`), put before every path of an issue. */
  readonly path?: string;
}

/**
 * Validates `data` against a zod schema. Throws {@link ConfigError} naming every bad
 * field (`hosts.h2.bmc.port`) and the rule (docs/behaviour.md#configuration); the value only when the field
 * cannot hold a secret, cut to 80 characters. Unknown keys are named without their
 * values, a value at the root (a token file given as a configuration) is never shown,
 * and a key that names a prototype slot (`__proto__`, `constructor`, `prototype`) is
 * refused wherever it stands: a record keyed by it would silently lose the entry.
 */
export function validateConfig<T>(schema: z.ZodType<T>, data: unknown, options: ValidateConfigOptions = {}): T {
  const reserved = reservedKeys(data, [], 0);
  const result = schema.safeParse(data ?? {});
  if (result.success && reserved.length === 0) return result.data;
  const issues = [...reserved, ...(result.success ? [] : result.error.issues.map((issue) => toIssue(issue, data)))];
  const at = options.path;
  throw new ConfigError(at ? issues.map((i) => ({ ...i, path: i.path ? `${at}.${i.path}` : at })) : issues);
}

/**
 * Reads a YAML or JSON file (YAML is a superset of JSON); a typed error names the file.
 * Text that is not UTF-8 is refused; a syntax error gives the line and column, never
 * the line itself (it may hold a password).
 */
export function readConfigFile(path: string): unknown {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw new ConfigError([
      { path: '(file)', value: path, rule: `cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})` },
    ]);
  }
  const text = decodeUtf8(bytes, '(file)', path);
  try {
    return parseYaml(text) ?? {};
  } catch (cause) {
    const pos = (cause as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
    const kind = (cause as { code?: unknown }).code;
    throw new ConfigError([
      {
        path: '(file)',
        value: path,
        rule: `is not valid YAML/JSON${where}${typeof kind === 'string' ? ` (${kind})` : ''}`,
      },
    ]);
  }
}

/**
 * Decodes UTF-8 strictly: bytes that are not valid UTF-8 are a {@link ConfigError} at
 * `path` (a field, or `(file)` with the file name as `value`), never a silently
 * replaced character.
 */
export function decodeUtf8(bytes: Uint8Array, path: string, value?: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ConfigError([{ path, value, rule: 'is not valid UTF-8 text' }]);
  }
}

function reservedKeys(node: unknown, path: string[], depth: number): ConfigIssue[] {
  if (node === null || typeof node !== 'object' || depth > MAX_DEPTH) return [];
  const issues: ConfigIssue[] = [];
  for (const key of Object.keys(node)) {
    const here = [...path, key];
    if (isReservedKey(key))
      issues.push({
        path: here.join('.'),
        value: key,
        rule: 'is a reserved name (__proto__, constructor, prototype): not an id',
      });
    else issues.push(...reservedKeys((node as Record<string, unknown>)[key], here, depth + 1));
  }
  return issues;
}

function toIssue(issue: z.core.$ZodIssue, root: unknown): ConfigIssue {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys')
    return {
      path,
      value: capShown(issue.keys),
      rule: `unknown field(s) ${issue.keys.map((k) => capShown(k)).join(', ')}`,
    };
  // A cross-field rule reports the effective value (a default may stand where nothing was written).
  const effective = issue.code === 'custom' ? (issue.params as { value?: unknown } | undefined)?.value : undefined;
  const value = effective ?? ('input' in issue && issue.input !== undefined ? issue.input : valueAt(root, issue.path));
  return { path, value: shownValue(issue.path, value), rule: issue.message };
}

/**
 * What an error may show of `value` at `path` (docs/behaviour.md#configuration): nothing of what may be a secret, and
 * at most 80 characters.
 */
function shownValue(path: readonly PropertyKey[], value: unknown): unknown {
  if (path.length === 0) return '[not shown]'; // the whole file: a token file given as a configuration
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return '{…}';
  const named = [...path].reverse().find((p) => typeof p === 'string');
  const last = String(named ?? '');
  if (SECRET_FIELD.test(last)) return '[redacted]';
  return capShown(value);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}
