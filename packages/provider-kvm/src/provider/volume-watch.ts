import type { VmVolumeDirectory, VolumeActivity } from '../ports.js';
import { sampleVolumes } from './volume-sample.js';

/** The volumes one check asks a checker to read. */
export interface VolumeSample {
  readonly volumes: readonly string[];
  /** How many volumes the host has listed in all. */
  readonly listed: number;
}

interface Marks {
  /** The last fingerprint seen of each volume. */
  readonly prints: Map<string, string>;
  /** Since when no volume was seen changing (or unreadable). */
  readonly quietSince: number;
}

/**
 * What the KVM provider has seen of each suspect's VM volumes across checks (see
 * docs/behaviour.md#kvm-hosts and the provider README's "VM volume activity"). A check reads the volumes twice a window
 * apart; the watch also compares each check's fingerprints with the previous check's, so a write *between* two checks
 * counts ("write activity since the last health check" — a VM that writes in bursts is not caught idle twice), and it
 * keeps since when the volumes have been quiet, which the self-fence lease needs: no lease expires while a VM wrote
 * within its span.
 */
export class VolumeWatch {
  private readonly marks = new Map<string, Marks>();
  private readonly turns = new Map<string, number>();

  /** Watches the volumes `directory` lists, at most `max` per check. */
  constructor(
    private readonly directory: VmVolumeDirectory | undefined,
    private readonly max: number,
  ) {}

  /**
   * The volumes the next check of `host` reads, sampled fairly across its VMs; each
   * check starts at the first VM the previous one left out. Undefined: the host's list
   * was never known.
   */
  sample(host: string): VolumeSample | undefined {
    const known = this.directory?.volumesOf(host);
    if (!known) return undefined;
    const turn = this.turns.get(host) ?? 0;
    const volumes = sampleVolumes(known, this.max, turn);
    this.turns.set(host, (turn + Math.max(volumes.length, 1)) % 1_000_000);
    return { volumes, listed: known.length };
  }

  /**
   * Records what a check of `host` saw of `asked` (its first pass `windowMs` before
   * `now`); returns the volumes whose fingerprint differs from the previous check's.
   * A fingerprint for a volume that was not asked for is ignored.
   */
  note(host: string, asked: readonly string[], seen: VolumeActivity, now: number, windowMs: number): string[] {
    const marks = this.marks.get(host);
    const prints = marks?.prints ?? new Map<string, string>();
    const since: string[] = [];
    const fresh = seen.fingerprints ?? {};
    for (const volume of asked) {
      const print = Object.hasOwn(fresh, volume) ? fresh[volume] : undefined;
      if (print === undefined) continue;
      const before = prints.get(volume);
      if (before !== undefined && before !== print) since.push(volume);
      prints.set(volume, print);
    }
    // A volume that could not be read may have been written: no quiet evidence then.
    const unsure = seen.changed.length > 0 || since.length > 0 || seen.failed.length > 0;
    this.marks.set(host, { prints, quietSince: unsure ? now : (marks?.quietSince ?? now - windowMs) });
    return since;
  }

  /** Since when `host`'s volumes have been seen quiet; undefined when never observed. */
  quietSince(host: string): number | undefined {
    return this.marks.get(host)?.quietSince;
  }

  /** `host` answered a health check: its next failure episode starts with no history. */
  forget(host: string): void {
    this.marks.delete(host);
  }
}
