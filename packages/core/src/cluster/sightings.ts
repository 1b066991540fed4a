/**
 * Since when (on this server's own clock) a watched key has shown the same value: the basis of liveness and of the
 * takeover wait (docs/behaviour.md#several-servers) — no wall-clock time of another server is ever compared.
 */
export class Sightings {
  private readonly seen = new Map<string, { value: string; since: number }>();

  /** Records `value` for `key` read at `now`; returns since when it has been unchanged. */
  see(key: string, value: string, now: number): number {
    const last = this.seen.get(key);
    if (last?.value === value) return last.since;
    this.seen.set(key, { value, since: now });
    return now;
  }

  /** Forgets every key not in `keep`. */
  retain(keep: ReadonlySet<string>): void {
    for (const key of [...this.seen.keys()]) if (!keep.has(key)) this.seen.delete(key);
  }

  /** Forgets `key`. */
  forget(key: string): void {
    this.seen.delete(key);
  }
}
