import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors/engine-errors.js';
import { Secret } from '../spi/secret.js';

/**
 * Where a credential comes from (SPEC §1: never stored in clear): an environment
 * variable, a file (first line, trailing newline removed), or a value encrypted with
 * {@link encryptSecret}.
 */
export type CredentialRef = { readonly env: string } | { readonly file: string } | { readonly encrypted: string };

/** Where {@link resolveCredential} finds the environment and the encryption key. */
export interface ResolveCredentialOptions {
  /** Environment to read `env` references and `HAFENCE_SECRET_KEY` from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The key itself (32 bytes, or 64 hex / base64 text); wins over the environment. */
  readonly key?: Buffer | string;
  /** A file holding the key as 64 hex chars or base64; used when `HAFENCE_SECRET_KEY` is unset. */
  readonly keyFile?: string;
}

/** Name of the environment variable holding the AES-256-GCM key. */
export const SECRET_KEY_ENV = 'HAFENCE_SECRET_KEY';

const PREFIX = 'v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const configError = (path: string, value: unknown, rule: string) => new ConfigError([{ path, value, rule }]);

/** Decodes a 256-bit key from raw bytes, 64 hex characters or base64; throws {@link ConfigError} otherwise. */
export function parseSecretKey(key: Buffer | string, source = 'key'): Buffer {
  if (Buffer.isBuffer(key)) {
    if (key.length === 32) return key;
    throw configError(source, `${key.length} bytes`, 'must be 32 bytes');
  }
  const text = key.trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  const b64 = Buffer.from(text, 'base64');
  if (b64.length === 32 && /^[A-Za-z0-9+/=_-]+$/.test(text)) return b64;
  // never echo the key itself
  throw configError(source, '[redacted]', 'must be 64 hex characters or base64 of 32 bytes');
}

/**
 * Encrypts `plain` with AES-256-GCM for storage at rest: `v1:` + base64(iv | tag | ciphertext).
 *
 * @example
 * const stored = encryptSecret('hunter2', process.env.HAFENCE_SECRET_KEY!);
 * const secret = resolveCredential({ encrypted: stored });
 */
export function encryptSecret(plain: string, key: Buffer | string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', parseSecretKey(key), iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

/** Decrypts a value made by {@link encryptSecret}; a wrong key or a tampered value is a {@link ConfigError}. */
export function decryptSecret(value: string, key: Buffer | string): Secret {
  if (!value.startsWith(PREFIX)) throw configError('encrypted', '[redacted]', `must start with '${PREFIX}'`);
  const raw = Buffer.from(value.slice(PREFIX.length), 'base64');
  if (raw.length < IV_BYTES + TAG_BYTES) throw configError('encrypted', '[redacted]', 'too short');
  try {
    const decipher = createDecipheriv('aes-256-gcm', parseSecretKey(key), raw.subarray(0, IV_BYTES));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    return new Secret(plain.toString('utf8'));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw configError('encrypted', '[redacted]', 'cannot be decrypted with this key (wrong key or tampered value)');
  }
}

/** Resolves a {@link CredentialRef} to a {@link Secret}; errors name the variable or file, never the value. */
export function resolveCredential(ref: CredentialRef, options: ResolveCredentialOptions = {}): Secret {
  const env = options.env ?? process.env;
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined || value === '') throw configError(`env.${ref.env}`, undefined, 'environment variable is not set');
    return new Secret(value);
  }
  if ('file' in ref) return new Secret(readFirstLine(ref.file, 'file'));
  return decryptSecret(ref.encrypted, loadKey(options, env));
}

function loadKey(options: ResolveCredentialOptions, env: Readonly<Record<string, string | undefined>>): Buffer {
  if (options.key !== undefined) return parseSecretKey(options.key);
  const fromEnv = env[SECRET_KEY_ENV];
  if (fromEnv) return parseSecretKey(fromEnv, `env.${SECRET_KEY_ENV}`);
  if (options.keyFile) return parseSecretKey(readFirstLine(options.keyFile, 'keyFile'), `keyFile ${options.keyFile}`);
  throw configError(`env.${SECRET_KEY_ENV}`, undefined, 'no encryption key: set the variable or give a key file');
}

function readFirstLine(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw configError(`${what} ${file}`, undefined, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  if (line === '') throw configError(`${what} ${file}`, undefined, 'is empty');
  return line;
}
