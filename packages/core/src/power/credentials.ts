import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { hasControlChars } from '../config/safe-values.js';
import { decodeUtf8 } from '../config/validate-config.js';
import { ConfigError } from '../errors/engine-errors.js';
import { Secret } from '../spi/secret.js';
import { readRegularFile } from '../util/read-regular-file.js';

/**
 * Where a credential comes from (docs/behaviour.md#power: never stored in clear): an environment
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
    return new Secret(decodeUtf8(plain, 'encrypted', '[redacted]'));
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
    if (value === undefined || value === '')
      throw configError(`env.${ref.env}`, undefined, 'environment variable is not set');
    return plain(value, `env.${ref.env}`);
  }
  if ('file' in ref) return plain(readFirstLine(ref.file, 'file'), `file ${ref.file}`);
  return plain(decryptSecret(ref.encrypted, loadKey(options, env)).reveal(), 'encrypted');
}

// A control character in a password would reach a power script's stdin or environment
// (a fence agent reads `name=value` lines: "pw\naction=off" is a power-off). Node
// decodes the environment as UTF-8 and puts U+FFFD where bytes were not: refused too.
function plain(value: string, source: string): Secret {
  if (hasControlChars(value))
    throw configError(source, '[redacted]', 'the secret contains a control character (newline, NUL, escape…); refused');
  if (value.includes('\uFFFD')) throw configError(source, '[redacted]', 'the secret is not valid UTF-8 text');
  return new Secret(value);
}

/** The largest secret file read (a token, a password, a key): anything bigger is not one. */
const MAX_SECRET_FILE_BYTES = 64 * 1024;

/**
 * Reads a file that holds a secret (a password, a bearer token, an encryption key), as
 * ssh reads a private key: it must be a regular file that neither its group nor others
 * may read, write or execute (mode 0600 or 0400), at most 64 KiB, and valid UTF-8.
 * Errors name `what` and the file, never its content.
 *
 * @example
 * const token = readSecretFile('/etc/hafence/agent.token', 'agentTokenFile').trim();
 */
export function readSecretFile(file: string, what: string): string {
  const where = `${what} ${file}`;
  const buf = readRegularFile(file, {
    path: where,
    value: undefined,
    maxBytes: MAX_SECRET_FILE_BYTES,
    check: (st) =>
      (st.mode & 0o077) !== 0
        ? {
            value: `mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}`,
            rule: 'is accessible by group or others: a secret file must be readable by its owner only (chmod 600)',
          }
        : undefined,
  });
  return decodeUtf8(buf, where);
}

function loadKey(options: ResolveCredentialOptions, env: Readonly<Record<string, string | undefined>>): Buffer {
  if (options.key !== undefined) return parseSecretKey(options.key);
  const fromEnv = env[SECRET_KEY_ENV];
  if (fromEnv) return parseSecretKey(fromEnv, `env.${SECRET_KEY_ENV}`);
  if (options.keyFile) return parseSecretKey(readFirstLine(options.keyFile, 'keyFile'), `keyFile ${options.keyFile}`);
  throw configError(`env.${SECRET_KEY_ENV}`, undefined, 'no encryption key: set the variable or give a key file');
}

function readFirstLine(file: string, what: string): string {
  const text = readSecretFile(file, what);
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  if (line === '') throw configError(`${what} ${file}`, undefined, 'is empty');
  return line;
}
