const FNV_OFFSET = 0x811c9dc5;
const SEPARATOR = 0x7c; // '|'

/** One FNV-1a step over the characters of `text`. */
function mixText(h: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** One FNV-1a step over the characters of `String(n)`, without building the string for a whole n ≥ 0. */
function mixNumber(h: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) return mixText(h, String(n));
  let unit = 1;
  while (unit * 10 <= n) unit *= 10;
  for (; unit >= 1; unit /= 10) {
    h ^= 0x30 + (Math.floor(n / unit) % 10);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/**
 * A uniform number in [0, 1) keyed by (seed, resource, purpose, n) — the same key gives
 * the same number in every run, so jitter is reproducible (docs/behaviour.md#resource-states).
 * The key is the FNV-1a hash of `${seed}|${resource}|${purpose}|${n}`, computed piece by piece (a health check
 * builds no string).
 */
export function keyedRandom(seed: number, resource: string, purpose: string, n: number): number {
  let h = mixNumber(FNV_OFFSET, seed);
  h = Math.imul(h ^ SEPARATOR, 0x01000193);
  h = mixText(h, resource);
  h = Math.imul(h ^ SEPARATOR, 0x01000193);
  h = mixText(h, purpose);
  h = Math.imul(h ^ SEPARATOR, 0x01000193);
  h = mixNumber(h, n);
  // mulberry32 finaliser over the hashed key
  let t = ((h >>> 0) + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** The keyed numbers n = 0, 1, 2, … of one (seed, resource, purpose). */
export function keyedSequence(seed: number, resource: string, purpose: string): () => number {
  let n = 0;
  return () => keyedRandom(seed, resource, purpose, n++);
}

/** `base` scaled by a factor in [1 - fraction, 1 + fraction] chosen by `r` in [0, 1); at least 1. */
export function jittered(base: number, fraction: number, r: number): number {
  return Math.max(1, Math.round(base * (1 + fraction * (2 * r - 1))));
}
