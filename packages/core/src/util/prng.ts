/** FNV-1a hash of a string to 32 bits. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A uniform number in [0, 1) keyed by (seed, resource, purpose, n) — the same key gives
 * the same number in every run, so jitter is reproducible (docs/behaviour.md#resource-states).
 */
export function keyedRandom(seed: number, resource: string, purpose: string, n: number): number {
  // mulberry32 finaliser over the hashed key
  let t = (fnv1a(`${seed}|${resource}|${purpose}|${n}`) + 0x6d2b79f5) >>> 0;
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
