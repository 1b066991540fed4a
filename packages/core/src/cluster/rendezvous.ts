/** FNV-1a of a string to 32 bits, then a mulberry32 finaliser so close keys spread. */
function score(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  let t = (h + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

/**
 * The preferred owner of `partition` among `servers` by rendezvous hashing (docs/behaviour.md#several-servers): the
 * server with the highest hash of (partition, server); ties go to the smaller id. When a server joins or leaves, only
 * the partitions it wins or held move. Undefined when there is no server.
 */
export function preferredOwner(partition: string, servers: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const ms of servers) {
    const s = score(`${partition}\u0000${ms}`);
    if (s > bestScore || (s === bestScore && best !== undefined && ms < best)) {
      best = ms;
      bestScore = s;
    }
  }
  return best;
}
