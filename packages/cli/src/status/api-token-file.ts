import { ConfigError, Secret, readSecretFile } from '@hafence/core';
import { hasControlChars } from '@hafence/core/internal';

/** The shortest API token (as `serve --http-token-file` wants). */
const MIN_TOKEN_CHARS = 32;

/**
 * Reads the token `hafence status` sends as `Authorization: Bearer`, from a file in the
 * format of `serve --http-token-file`: `NAME TOKEN` lines (`#` comments, blank lines) — the
 * first pair's token is used — or one bare token. The file must be mode 0600/0400 as any
 * secret file. Errors name `--token-file` and the file, never its content.
 *
 * @example
 * const token = loadApiToken('/etc/hafence/api.tokens');
 */
export function loadApiToken(path: string, field = '--token-file'): Secret {
  const lines = readSecretFile(path, field)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const fail = (rule: string): never => {
    throw new ConfigError([{ path: field, value: path, rule }]);
  };
  if (lines.length === 0) fail('holds no token');
  const words = lines[0]!.split(/\s+/);
  if (words.length > 2) fail('each line must be NAME TOKEN, or the file one bare token');
  const token = words.length === 2 ? words[1]! : words[0]!;
  if (words.length === 1 && lines.length > 1)
    fail('a bare token must be alone in the file; else write NAME TOKEN lines');
  if (words.length === 2 && !/^[A-Za-z0-9._@-]{1,64}$/.test(words[0]!))
    fail('a NAME must be 1-64 letters, digits, . _ @ -');
  if (token.length < MIN_TOKEN_CHARS) fail(`must hold a token of at least ${MIN_TOKEN_CHARS} characters`);
  if (hasControlChars(token)) fail('the token must not contain control characters');
  return new Secret(token);
}
