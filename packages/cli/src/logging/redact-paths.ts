/**
 * Field names whose values are secrets: passwords, tokens, authorization and cookie
 * headers, shared secrets and key material. Matched exactly (pino's paths are
 * case-sensitive; Node lowercases header names).
 */
export const SECRET_KEYS: readonly string[] = [
  'password',
  'passwd',
  'passphrase',
  'passwordEncrypted',
  'token',
  'accessToken',
  'refreshToken',
  'peerToken',
  'bearer',
  'authorization',
  'Authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'apiKey',
  'secret',
  'clientSecret',
  'secretKey',
  'key',
  'privateKey',
  'tlsKey',
  'credentials',
];

/** How deep under the logged fields a secret key is looked for (pino's `*` matches one level). */
export const REDACT_DEPTH = 4;

/** `a-b` → `["a-b"]`, `a` → `a`: a path segment in pino's syntax. */
function segment(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `["${key}"]`;
}

/**
 * The pino `redact` paths: every {@link SECRET_KEYS} name at the top of a line's fields
 * and up to {@link REDACT_DEPTH} objects below (`password`, `*.password`, `*.*.password`…).
 */
export function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of SECRET_KEYS) {
    for (let depth = 0; depth <= REDACT_DEPTH; depth++) {
      const prefix = Array.from({ length: depth }, () => '*').join('.');
      const seg = segment(key);
      paths.push(prefix === '' ? (seg.startsWith('.') ? key : seg) : `${prefix}${seg}`);
    }
  }
  return paths;
}
