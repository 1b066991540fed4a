import { ConfigError, readSecretFile, Secret } from '@hafence/core';

/**
 * Reads an agent bearer token from a file (never from argv: argv is world-readable in
 * `ps`). Like ssh with a private key, a file that group or others can access is refused,
 * as is anything but a regular UTF-8 file of at most 64 KiB. Surrounding whitespace is
 * dropped; a token under 16 characters is refused. Every `ConfigError` names the file,
 * never its content.
 */
export async function readTokenFile(path: string): Promise<Secret> {
  const token = readSecretFile(path, 'tokenFile').trim();
  if (token.length < 16)
    throw new ConfigError([{ path: 'tokenFile', value: path, rule: 'must hold a token of at least 16 characters' }]);
  return new Secret(token);
}
