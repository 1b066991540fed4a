import type { PartitionView } from '@hafence/core';

/**
 * The hosts that may check a suspect (docs/behaviour.md#kvm-hosts): only AVAILABLE members of its cluster,
 * and not those excluded because they could not read the shared mount (until they can
 * again). The provider sees member states only in `partitionConditions`, so the pool
 * caches the latest view of each partition.
 */
export class CheckerPool {
  private readonly available = new Map<string, readonly string[]>();
  private readonly excluded = new Map<string, string>();
  private turn = 0;

  /** Records the AVAILABLE members of the partition in `view`. */
  update(view: PartitionView): void {
    this.available.set(
      view.partition.id,
      view.members.filter((m) => m.state === 'AVAILABLE').map((m) => m.spec.ref.id),
    );
  }

  /** Checkers for `suspect`, rotated so the load spreads over the neighbours. */
  candidates(partition: string, suspect: string): string[] {
    const hosts = (this.available.get(partition) ?? []).filter((h) => h !== suspect && !this.excluded.has(h));
    if (hosts.length === 0) return [];
    const start = this.turn++ % hosts.length;
    return [...hosts.slice(start), ...hosts.slice(0, start)];
  }

  /** Excludes `host` as a checker; true when it was not excluded before. */
  exclude(host: string, reason: string): boolean {
    const fresh = !this.excluded.has(host);
    this.excluded.set(host, reason);
    return fresh;
  }

  /** Readmits `host` (it can read the mount again); true when it was excluded. */
  readmit(host: string): boolean {
    return this.excluded.delete(host);
  }

  /** Why `host` is excluded, if it is. */
  exclusion(host: string): string | undefined {
    return this.excluded.get(host);
  }
}
