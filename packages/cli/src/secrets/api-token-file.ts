import { ConfigError, Secret, readSecretFile, type ConfigIssue } from '@hafence/core';
import { hasControlChars } from '@hafence/core/internal';

/** The shortest API token accepted. */
export const MIN_API_TOKEN_CHARS = 32;

/** One identity of the operator API: its NAME (recorded as `by` in audits) and its token. */
export interface ApiIdentity {
  readonly name: string;
  readonly token: Secret;
}

const NAME = /^[A-Za-z0-9._@-]{1,64}$/;

/**
 * Reads `hafence serve --http-token-file`: a secret file (mode 0600 or 0400, as
 * {@link readSecretFile} wants) with one `NAME TOKEN` pair per line — `#` comments and blank
 * lines allowed, NAME `[A-Za-z0-9._@-]{1,64}`, TOKEN at least 32 characters without
 * whitespace or control characters; a file holding a single bare token means NAME
 * `operator`. Names and tokens must be unique. Errors name `field`, the file and the
 * line, never a token.
 *
 * @example
 * const identities = loadApiTokenFile('/etc/hafence/api.tokens', '--http-token-file');
 */
export function loadApiTokenFile(path: string, field: string): ApiIdentity[] {
  const lines = readSecretFile(path, field)
    .split(/\r?\n/)
    .map((text, i) => ({ text: text.trim(), line: i + 1 }))
    .filter((l) => l.text !== '' && !l.text.startsWith('#'));
  const issue = (line: number | undefined, rule: string): ConfigIssue => ({
    path: line === undefined ? field : `${field}:${line}`,
    value: path,
    rule,
  });
  if (lines.length === 0) throw new ConfigError([issue(undefined, 'holds no token')]);
  const bare = lines.length === 1 && !/\s/.test(lines[0]!.text);
  const pairs = bare
    ? [{ line: lines[0]!.line, name: 'operator', token: lines[0]!.text }]
    : lines.map((l) => {
        const [name = '', token = '', ...rest] = l.text.split(/\s+/);
        return { line: l.line, name, token: rest.length > 0 ? '' : token };
      });
  const issues: ConfigIssue[] = [];
  const names = new Set<string>();
  const tokens = new Set<string>();
  for (const p of pairs) {
    if (!NAME.test(p.name))
      issues.push(issue(p.line, 'NAME must be 1-64 of A-Z a-z 0-9 . _ @ - (a line is NAME TOKEN)'));
    else if (names.has(p.name)) issues.push(issue(p.line, `NAME '${p.name}' is listed twice`));
    if (p.token.length < MIN_API_TOKEN_CHARS || hasControlChars(p.token))
      issues.push(issue(p.line, `TOKEN must be one word of at least ${MIN_API_TOKEN_CHARS} characters`));
    else if (tokens.has(p.token)) issues.push(issue(p.line, 'this TOKEN is listed twice'));
    names.add(p.name);
    tokens.add(p.token);
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return pairs.map((p) => ({ name: p.name, token: new Secret(p.token) }));
}
