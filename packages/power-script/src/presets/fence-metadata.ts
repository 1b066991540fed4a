import { ConfigError } from '@hafence/core';

/** One parameter a fence agent accepts on stdin (`name=value`). */
export interface FenceParameter {
  readonly name: string;
  readonly required: boolean;
  readonly deprecated: boolean;
  /** Older name this one replaces (`obsoletes="passwd"`), also accepted. */
  readonly obsoletes?: string;
  /** `string`, `boolean`, `integer`, `select`… */
  readonly type: string;
  readonly default?: string;
  /** Allowed values of a `select`. */
  readonly choices?: readonly string[];
}

/** What a ClusterLabs fence agent's `metadata` action says about it. */
export interface FenceAgentMetadata {
  readonly name: string;
  readonly parameters: ReadonlyMap<string, FenceParameter>;
  readonly actions: ReadonlySet<string>;
}

const attr = (tag: string | undefined, name: string): string | undefined => {
  const value = tag === undefined ? undefined : new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];
  return value === undefined ? undefined : unescapeXml(value);
};

function unescapeXml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/**
 * Parses the XML of `fence_* -o metadata` (the fence-agent API's resource-agent
 * format). The format is flat and regular, so a small tag scanner is enough; a
 * document without `<resource-agent>` or `<parameters>` is rejected.
 */
export function parseFenceMetadata(xml: string): FenceAgentMetadata {
  const head = /<resource-agent\b[^>]*>/.exec(xml);
  if (!head || !/<parameters>/.test(xml))
    throw new Error('not fence-agent metadata (no <resource-agent> with <parameters>)');
  const parameters = new Map<string, FenceParameter>();
  const paramRe = /<parameter\b([^>]*)>([\s\S]*?)<\/parameter>/g;
  for (let m = paramRe.exec(xml); m; m = paramRe.exec(xml)) {
    const [, tag = '', body = ''] = m;
    const name = attr(tag, 'name');
    if (!name) continue;
    const content = /<content\b([^>]*)\/?>([\s\S]*?(?:<\/content>|$))?/.exec(body);
    const choices = [...(content?.[2] ?? '').matchAll(/<option\b[^>]*value="([^"]*)"/g)].map(([, v = '']) =>
      unescapeXml(v),
    );
    parameters.set(name, {
      name,
      required: attr(tag, 'required') === '1',
      deprecated: attr(tag, 'deprecated') === '1',
      obsoletes: attr(tag, 'obsoletes'),
      type: attr(content?.[1], 'type') ?? 'string',
      default: attr(content?.[1], 'default'),
      choices: choices.length > 0 ? choices : undefined,
    });
  }
  const actions = new Set([...xml.matchAll(/<action\b[^>]*name="([^"]+)"/g)].map(([, action = '']) => action));
  return { name: attr(head[0], 'name') ?? 'fence agent', parameters, actions };
}

/** Finds a parameter by its name or by the older name it obsoletes. */
export function findParameter(meta: FenceAgentMetadata, name: string): FenceParameter | undefined {
  const direct = meta.parameters.get(name);
  if (direct) return direct;
  for (const p of meta.parameters.values()) if (p.obsoletes === name) return p;
  return undefined;
}

/**
 * Checks user-given agent options against the metadata: known names, no newlines,
 * `select` values among the choices, booleans and integers well-formed.
 */
export function validateFenceOptions(
  meta: FenceAgentMetadata,
  options: Readonly<Record<string, string>>,
  path = 'agentOptions',
): void {
  const issues: { path: string; value: unknown; rule: string }[] = [];
  for (const [key, value] of Object.entries(options)) {
    const p = findParameter(meta, key);
    const where = `${path}.${key}`;
    if (!p) {
      issues.push({ path: where, value, rule: `${meta.name} has no such option` });
    } else if (/[\r\n]/.test(value) || /[\r\n=]/.test(key)) {
      issues.push({ path: where, value: '[not shown]', rule: 'must not contain a newline' });
    } else if (p.choices && !p.choices.includes(value)) {
      issues.push({ path: where, value, rule: `must be one of ${p.choices.join(', ')}` });
    } else if (
      p.type === 'boolean' &&
      !['0', '1', 'true', 'false', 'on', 'off', 'yes', 'no', ''].includes(value.toLowerCase())
    ) {
      issues.push({ path: where, value, rule: 'must be a boolean (0/1)' });
    } else if (p.type === 'integer' && !/^-?\d+$/.test(value)) {
      issues.push({ path: where, value, rule: 'must be an integer' });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
}
