import { X509Certificate, createPrivateKey } from 'node:crypto';
import { ConfigError, Secret, readSecretFile } from '@hafence/core';
import { readRegularFile } from '@hafence/core/internal';

/** The largest certificate file read (a chain of a few certificates). */
const MAX_CERT_FILE_BYTES = 256 * 1024;

/**
 * Reads a PEM certificate file (a certificate, a chain or a CA bundle) for a TLS flag or
 * field: it must be a readable regular file (not a FIFO or a device) and start with a
 * parseable certificate. Errors name `field` and the file.
 *
 * @example
 * const ca = loadCertFile('/etc/hafence/ca.pem', '--tls-ca');
 */
export function loadCertFile(path: string, field: string): string {
  // a FIFO or a device (/dev/zero) is refused without blocking; the size is bounded before reading
  const text = readRegularFile(path, { path: field, maxBytes: MAX_CERT_FILE_BYTES }).toString('utf8');
  try {
    new X509Certificate(text); // parsed only to check it
  } catch {
    throw new ConfigError([
      { path: field, value: path, rule: 'must hold a PEM certificate (-----BEGIN CERTIFICATE-----)' },
    ]);
  }
  return text;
}

/**
 * Reads a certificate and its private key for a TLS flag pair: the key file is a secret
 * file (mode 0600 or 0400, as `readSecretFile` wants; refused otherwise), must hold a PEM
 * private key, and the key must be the certificate's. Errors name the field and file,
 * never the key.
 *
 * @example
 * const { cert, key } = loadCertAndKey('/etc/hafence/agent.pem', '--tls-cert', '/etc/hafence/agent.key', '--tls-key');
 */
export function loadCertAndKey(
  certPath: string,
  certField: string,
  keyPath: string,
  keyField: string,
): { cert: string; key: Secret } {
  const cert = loadCertFile(certPath, certField);
  const keyText = readSecretFile(keyPath, keyField);
  let matches: boolean;
  try {
    matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(keyText));
  } catch {
    throw new ConfigError([{ path: keyField, value: keyPath, rule: 'must hold an unencrypted PEM private key' }]);
  }
  if (!matches)
    throw new ConfigError([
      { path: keyField, value: keyPath, rule: `is not the private key of ${certField} ${certPath}` },
    ]);
  return { cert, key: new Secret(keyText) };
}
