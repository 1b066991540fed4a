import { abortReason, type Clock } from '@hafence/core';
import { withClockSignal } from '@hafence/core/internal';
import type { VolumeActivity, VolumeReadFailure } from '../ports.js';
import { VOLUME_UNSUPPORTED, VolumeReadError, type VolumeReader } from './volume-reader.js';

/** Most volumes one activity check may ask a checker to read. */
export const MAX_VOLUMES_PER_READ = 128;

/** Bounds of one pass over a suspect's volumes. */
export interface VolumePassLimits {
  /** Longest wait for one volume's attributes (default 2 s); a read past it counts as failed. */
  readonly readTimeoutMs: number;
  /** Longest time one pass may take (default 4 s); volumes not started by then count as failed. */
  readonly passBudgetMs: number;
}

/** Defaults of {@link VolumePassLimits}: both passes fit in the management server's 10 s reply margin. */
export const DEFAULT_VOLUME_PASS_LIMITS: VolumePassLimits = { readTimeoutMs: 2_000, passBudgetMs: 4_000 };

/** One pass: each volume's fingerprint, or why it could not be read. */
export type VolumePass = ReadonlyMap<string, { readonly fingerprint: string } | { readonly failed: string }>;

/**
 * Reads every volume once, one after the other, each with its own timeout on `clock`,
 * within the pass budget. Never rejects for a volume (a failure is recorded per volume);
 * rejects only when `signal` aborts.
 */
export async function readVolumePass(
  reader: VolumeReader,
  volumes: readonly string[],
  clock: Clock,
  signal: AbortSignal,
  limits: VolumePassLimits = DEFAULT_VOLUME_PASS_LIMITS,
): Promise<VolumePass> {
  const pass = new Map<string, { fingerprint: string } | { failed: string }>();
  const start = clock.now();
  for (const volume of volumes) {
    if (signal.aborted) throw abortReason(signal);
    if (clock.now() - start >= limits.passBudgetMs) {
      pass.set(volume, { failed: `not read: the pass took its whole budget of ${limits.passBudgetMs} ms` });
      continue;
    }
    pass.set(volume, await readOne(reader, volume, clock, signal, limits.readTimeoutMs));
  }
  return pass;
}

async function readOne(
  reader: VolumeReader,
  volume: string,
  clock: Clock,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<{ fingerprint: string } | { failed: string }> {
  try {
    const timeoutReason = () => new VolumeReadError(volume, `no answer within ${timeoutMs} ms`);
    const read = (s: AbortSignal) => reader.fingerprint(volume, s);
    return {
      fingerprint: await withClockSignal(clock, timeoutMs, 'volume read', read, {
        parent: signal,
        timeoutReason,
        race: true,
      }),
    };
  } catch (err) {
    if (signal.aborted) throw abortReason(signal);
    return { failed: err instanceof VolumeReadError ? err.detail : `cannot read it (${(err as Error).message})` };
  }
}

/**
 * Compares two passes: a volume whose fingerprint differs changed; one that failed in
 * either pass proves nothing; one on storage the reader does not handle is skipped.
 */
export function compareVolumePasses(first: VolumePass, second: VolumePass): VolumeActivity {
  const changed: string[] = [];
  const failed: VolumeReadFailure[] = [];
  const fingerprints: Record<string, string> = Object.create(null) as Record<string, string>;
  let read = 0;
  let skipped = 0;
  for (const [volume, a] of first) {
    const b = second.get(volume);
    const failure =
      'failed' in a ? a.failed : b === undefined ? 'not read in the second pass' : 'failed' in b ? b.failed : undefined;
    if (failure !== undefined) {
      failed.push({ volume, detail: failure });
      continue;
    }
    if ('fingerprint' in a && a.fingerprint === VOLUME_UNSUPPORTED) {
      skipped++;
      continue;
    }
    read++;
    if ('fingerprint' in a && b && 'fingerprint' in b) {
      fingerprints[volume] = b.fingerprint;
      if (a.fingerprint !== b.fingerprint) changed.push(volume);
    }
  }
  return { read, skipped, changed, failed, fingerprints: { ...fingerprints } };
}
