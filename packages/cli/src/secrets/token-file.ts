import { ConfigError, Secret, readSecretFile } from '@hafence/core';
import { hasControlChars } from '@hafence/core/internal';

/** The shortest bearer token accepted (as the agent's own reader). */
const MIN_TOKEN_CHARS = 16;

/**
 * Reads the agents' bearer token for `hafence agent --token-file` and a cluster file's
 * `agentTokenFile`: a regular file only its owner may access (mode 0600 or 0400, as ssh
 * wants of a private key), UTF-8, surrounding whitespace dropped, at least 16
 * characters, no control character inside. Errors name `field` and the file, never the
 * content.
 *
 * @example
 * const token = loadTokenFile('/etc/hafence/agent.token', '--token-file');
 */
export function loadTokenFile(path: string, field: string): Secret {
  const text = readSecretFile(path, field).trim();
  const rule =
    text.length < MIN_TOKEN_CHARS
      ? `must hold a token of at least ${MIN_TOKEN_CHARS} characters`
      : hasControlChars(text)
        ? 'the token must be one line without control characters'
        : undefined;
  if (rule) throw new ConfigError([{ path: field, value: path, rule }]);
  return new Secret(text);
}
