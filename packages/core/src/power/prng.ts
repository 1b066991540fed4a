/** A seeded pseudo-random source: numbers in [0, 1). */
export type Random = () => number;

/** FNV-1a hash of a string, as an unsigned 32-bit integer. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Mulberry32: a small deterministic PRNG, so jitter is reproducible from `seed`. */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The PRNG of one host: seeded by the service seed and the host name. */
export function hostRandom(seed: number, host: string): Random {
  return mulberry32(hashString(`${seed}:${host}`));
}

/** `base` spread by ±`fraction` using `random`. */
export function jittered(base: number, fraction: number, random: Random): number {
  return Math.max(1, Math.round(base * (1 + fraction * (2 * random() - 1))));
}
