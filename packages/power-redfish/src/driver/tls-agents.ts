import { createHash } from 'node:crypto';
import { Agent } from 'node:https';
import { ConfigError } from '@hafence/core';
import { decodeUtf8, readRegularFile } from '@hafence/core/internal';
import { BundleAgent, bundleCertificates, hasSameSubjects } from './bundle-agent.js';

/** The largest CA file read (a bundle of many certificates fits in far less). */
export const MAX_CA_FILE_BYTES = 1024 * 1024;

/** How the BMC's certificate is checked. */
export interface TlsPolicy {
  /** PEM text of the CA(s) that signed the BMC certificates (replaces the system's CAs). */
  readonly ca?: string;
  /** Skip certificate verification entirely (self-signed BMC certificates); logged loudly. */
  readonly insecure: boolean;
}

/**
 * One kept-alive `https.Agent` per TLS policy, shared by every BMC with that policy: the
 * sockets (and TLS sessions) to a BMC are reused between calls. `maxSockets` bounds the
 * connections to each BMC (BMCs are small machines).
 */
export class TlsAgents {
  readonly #agents = new Map<string, Agent>();
  readonly #caFiles = new Map<string, string>();
  readonly #maxSockets: number;
  readonly #now: () => number;

  /** Creates the pool; agents are made on first use. `now` dates the certificates {@link BundleAgent} checks. */
  constructor(maxSockets: number, now: () => number) {
    this.#maxSockets = maxSockets;
    this.#now = now;
  }

  /**
   * The PEM text of `file`, read once. It must be a regular file (a FIFO or a device is
   * refused without blocking), at most {@link MAX_CA_FILE_BYTES}, UTF-8 and hold a PEM
   * certificate; anything else is a `ConfigError` naming `path` (the option) and the file.
   */
  caFromFile(file: string, path = 'caFile'): string {
    const known = this.#caFiles.get(file);
    if (known !== undefined) return known;
    const text = decodeUtf8(readRegularFile(file, { path, maxBytes: MAX_CA_FILE_BYTES }), path, file);
    if (!text.includes('-----BEGIN CERTIFICATE-----'))
      throw new ConfigError([{ path, value: file, rule: 'holds no PEM certificate' }]);
    this.#caFiles.set(file, text);
    return text;
  }

  /** The agent of `policy` (the key of a policy, for the BMC table, is {@link TlsAgents.keyOf}). */
  agent(policy: TlsPolicy): Agent {
    const key = TlsAgents.keyOf(policy);
    let agent = this.#agents.get(key);
    if (!agent) {
      const base = { keepAlive: true, maxSockets: this.#maxSockets };
      // a bundle of certificates sharing a subject (self-signed BMC certificates of one vendor):
      // OpenSSL finds only the first of them, so the peer's certificate is looked up by its bytes
      if (policy.ca && !policy.insecure && hasSameSubjects(bundleCertificates(policy.ca)))
        agent = new BundleAgent({ ...base, ca: policy.ca }, this.#now);
      else
        agent = new Agent({
          ...base,
          ...(policy.insecure ? { rejectUnauthorized: false } : {}),
          ...(policy.ca && !policy.insecure ? { ca: policy.ca } : {}),
        });
      this.#agents.set(key, agent);
    }
    return agent;
  }

  /** A short stable key of a policy. */
  static keyOf(policy: TlsPolicy): string {
    if (policy.insecure) return 'insecure';
    return policy.ca ? `ca:${createHash('sha256').update(policy.ca).digest('hex').slice(0, 16)}` : 'system';
  }

  /** Closes every socket of every agent. */
  destroy(): void {
    for (const a of this.#agents.values()) a.destroy();
    this.#agents.clear();
  }
}
