import { readFile } from 'node:fs/promises';
import { ConfigError, Secret } from '@hafence/core';

/**
 * Reads the agents' bearer token from a file (never from argv: argv is world-readable in
 * `ps`). Surrounding whitespace is dropped; an empty file is a `ConfigError` that names
 * the file, never its content.
 */
export async function readTokenFile(path: string): Promise<Secret> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: 'tokenFile', value: path, rule: `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` }]);
  }
  const token = text.trim();
  if (token.length < 16) throw new ConfigError([{ path: 'tokenFile', value: path, rule: 'must hold a token of at least 16 characters' }]);
  return new Secret(token);
}
