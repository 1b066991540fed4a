/** RMCP+ authentication algorithms (IPMI 2.0 §13.28). */
export const AuthAlgorithm = { NONE: 0, HMAC_SHA1: 1, HMAC_SHA256: 3 } as const;
/** RMCP+ integrity algorithms (IPMI 2.0 §13.28.4). */
export const IntegrityAlgorithm = { NONE: 0, HMAC_SHA1_96: 1, HMAC_SHA256_128: 4 } as const;
/** RMCP+ confidentiality algorithms (IPMI 2.0 §13.28.5). */
export const ConfidentialityAlgorithm = { NONE: 0, AES_CBC_128: 1 } as const;

/** The algorithms a cipher suite ID stands for, with the sizes the codecs need. */
export interface CipherSuite {
  readonly id: number;
  readonly auth: number;
  readonly integrity: number;
  readonly confidentiality: number;
  /** Hash of the RAKP HMACs and key derivation (`undefined` for RAKP-none). */
  readonly authHash?: 'sha1' | 'sha256';
  /** Length of the RAKP 2/3 HMACs and of SIK, K1, K2. */
  readonly authCodeLength: number;
  /** Length of the RAKP 4 integrity check value. */
  readonly rakp4IcvLength: number;
  /** Hash of the per-packet integrity HMAC (`undefined`: no integrity). */
  readonly integrityHash?: 'sha1' | 'sha256';
  /** Length of the truncated per-packet AuthCode. */
  readonly integrityLength: number;
  /** Whether payloads are AES-CBC-128 encrypted. */
  readonly encrypted: boolean;
}

function suite(id: number, auth: number, integrity: number, confidentiality: number): CipherSuite {
  const authHash =
    auth === AuthAlgorithm.HMAC_SHA1 ? 'sha1' : auth === AuthAlgorithm.HMAC_SHA256 ? 'sha256' : undefined;
  const integrityHash =
    integrity === IntegrityAlgorithm.HMAC_SHA1_96
      ? 'sha1'
      : integrity === IntegrityAlgorithm.HMAC_SHA256_128
        ? 'sha256'
        : undefined;
  return {
    id,
    auth,
    integrity,
    confidentiality,
    authHash,
    integrityHash,
    authCodeLength: authHash === 'sha1' ? 20 : authHash === 'sha256' ? 32 : 0,
    rakp4IcvLength: authHash === 'sha1' ? 12 : authHash === 'sha256' ? 16 : 0,
    integrityLength: integrityHash === 'sha1' ? 12 : integrityHash === 'sha256' ? 16 : 0,
    encrypted: confidentiality === ConfidentialityAlgorithm.AES_CBC_128,
  };
}

/** The cipher suites hafence speaks: 17 (default), 3 (fallback), 0 only when allowed. */
export const CIPHER_SUITES: ReadonlyMap<number, CipherSuite> = new Map([
  [0, suite(0, 0, 0, 0)],
  [1, suite(1, 1, 0, 0)],
  [2, suite(2, 1, 1, 0)],
  [3, suite(3, 1, 1, 1)],
  [15, suite(15, 3, 0, 0)],
  [16, suite(16, 3, 4, 0)],
  [17, suite(17, 3, 4, 1)],
]);

/** Finds the suite whose three algorithms match, if we know it. */
export function suiteByAlgorithms(auth: number, integrity: number, confidentiality: number): CipherSuite | undefined {
  for (const s of CIPHER_SUITES.values()) {
    if (s.auth === auth && s.integrity === integrity && s.confidentiality === confidentiality) return s;
  }
  return undefined;
}
