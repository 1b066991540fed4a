import { ConfigError, type ConfigIssue, type PowerTarget } from '@hafence/core';
import { addressRule, hasControlChars } from '@hafence/core/internal';

/**
 * The preset's own check of a target, before anything is started (the second line of
 * defence after configuration validation): no control character in any field that can
 * reach a child's stdin, argv or environment — a fence agent keeps the last `action=`
 * line it reads, so `10.0.0.1\naction=off` in an address would turn a status into a
 * power-off — and an address that is a host name or an IP literal (never `-option`).
 * Throws {@link ConfigError} naming every bad field; a password is never shown.
 */
export function checkTargetFields(target: PowerTarget): void {
  const issues: ConfigIssue[] = [];
  const host = typeof target.host === 'string' && !hasControlChars(target.host) ? target.host : '(host)';
  if (host !== target.host)
    issues.push({ path: 'target.host', value: target.host, rule: 'must not contain control characters' });
  const at = `hosts.${host}`;
  const address = String(target.address ?? '');
  const bad = hasControlChars(address) ? 'must not contain control characters' : addressRule(address);
  if (bad) issues.push({ path: `${at}.address`, value: address, rule: bad });
  if (target.username !== undefined && hasControlChars(target.username)) {
    issues.push({ path: `${at}.username`, value: target.username, rule: 'must not contain control characters' });
  }
  const password = target.password?.reveal();
  if (password !== undefined && hasControlChars(password)) {
    issues.push({
      path: `${at}.password`,
      value: '[redacted]',
      rule: 'must not contain control characters (newline, NUL, escape…)',
    });
  }
  issues.push(...optionIssues(target.options, `${at}.options`, 0));
  if (issues.length > 0) throw new ConfigError(issues);
}

/** Every string (keys included) inside a target's options, nested up to a few levels. */
function optionIssues(node: unknown, path: string, depth: number): ConfigIssue[] {
  if (typeof node === 'string')
    return hasControlChars(node) ? [{ path, value: node, rule: 'must not contain control characters' }] : [];
  if (node === null || typeof node !== 'object' || depth > 4) return [];
  const issues: ConfigIssue[] = [];
  for (const [k, v] of Object.entries(node)) {
    if (hasControlChars(k)) issues.push({ path, value: k, rule: 'option names must not contain control characters' });
    else issues.push(...optionIssues(v, `${path}.${k}`, depth + 1));
  }
  return issues;
}

/**
 * Refuses control characters in the argv and environment values of an invocation (any preset, ours or a third party's).
 */
export function checkInvocation(
  args: readonly string[],
  env: Readonly<Record<string, string>> | undefined,
  host: string,
): void {
  const issues: ConfigIssue[] = [];
  args.forEach((a, i) => {
    if (hasControlChars(a))
      issues.push({
        path: `hosts.${host}.argv[${i}]`,
        value: '[not shown]',
        rule: 'an argument holds a control character; refused',
      });
  });
  for (const [k, v] of Object.entries(env ?? {})) {
    if (hasControlChars(k) || hasControlChars(v))
      issues.push({
        path: `hosts.${host}.env`,
        value: '[not shown]',
        rule: `environment variable ${hasControlChars(k) ? '(name)' : k} holds a control character; refused`,
      });
  }
  if (issues.length > 0) throw new ConfigError(issues);
}
