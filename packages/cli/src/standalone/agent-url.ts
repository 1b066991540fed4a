import { hasControlChars } from '@hafence/core/internal';

/**
 * An agent URL as it may be shown in an error or a log: whatever stands before an `@` of its
 * authority (a `user:password@`) is masked, so a password written into the URL never shows.
 *
 * @example
 * shownAgentUrl('http://admin:pw@10.0.0.11:7070'); // 'http://[redacted]@10.0.0.11:7070'
 */
export function shownAgentUrl(text: string): string {
  // The scheme's slashes are optional: WHATWG reads `http:admin:pw@h` and `http:\\admin:pw@h` as userinfo too.
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/?#]*@/i, (_all, scheme: string | undefined) => {
    return `${scheme ?? ''}[redacted]@`;
  });
}

/**
 * Why `text` is not an agent URL (`http(s)://HOST:PORT`, no `user:password@`: the agents'
 * token authenticates), or undefined when it is one.
 *
 * @example
 * agentUrlRule('https://10.0.0.11:7070'); // undefined
 * agentUrlRule('http://admin:pw@10.0.0.11:7070'); // 'must not carry user:password@ (…)'
 */
export function agentUrlRule(text: string): string | undefined {
  if (hasControlChars(text)) return 'must not contain control characters';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be a URL like https://10.0.0.11:7070';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http:// or https:// URL';
  if (url.username !== '' || url.password !== '')
    return 'must not carry user:password@ (agents are authenticated by a token file)';
  if (url.hostname === '') return 'names no host';
  return undefined;
}
