import { readdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { delay, type Clock } from '@hafence/core';
import type { HeartbeatObservation, HeartbeatRecord } from '../ports.js';
import { errnoOf } from './agent-errors.js';
import { decodeHeartbeat } from './heartbeat-file.js';
import { compareVolumePasses, readVolumePass, type VolumePassLimits } from './volume-activity.js';
import type { VolumeReader } from './volume-reader.js';

/** The reads a checker needs: a test seam for unreadable mounts. */
export interface HeartbeatReadFsLike {
  /** Lists a folder (proves the mount itself is readable). */
  readdir(path: string): Promise<readonly string[]>;
  /** Reads a whole file; opened afresh on every call. */
  readFile(path: string): Promise<string>;
}

/** The real file system. */
export const nodeHeartbeatReadFs: HeartbeatReadFsLike = {
  readdir: (path) => readdir(path),
  readFile: (path) => readFile(path, 'utf8'),
};

type ReadOutcome = { ok: true; record: HeartbeatRecord } | Extract<HeartbeatObservation, { ok: false }>;

/** The suspect's VM volumes to read in the same two passes as its heartbeat. */
export interface VolumeReadRequest {
  readonly reader: VolumeReader;
  readonly volumes: readonly string[];
  readonly limits?: VolumePassLimits;
}

/**
 * Reads the heartbeat at `path` twice, `windowMs` apart (docs/behaviour.md#kvm-hosts). Each read opens the
 * file afresh and compares content (with a counter), never attributes, so NFS attribute
 * caches and clock skew do not matter. A mount that cannot be listed is
 * `mount-unreadable` (the checker is at fault, not the suspect). With `volumes`, each
 * pass also fingerprints the suspect's VM volumes right after the heartbeat read.
 */
export async function readHeartbeatTwice(
  path: string,
  windowMs: number,
  clock: Clock,
  signal: AbortSignal,
  fs: HeartbeatReadFsLike = nodeHeartbeatReadFs,
  volumes?: VolumeReadRequest,
): Promise<HeartbeatObservation> {
  const first = await readOnce(path, fs);
  if (!first.ok) return first;
  const before = volumes && (await readVolumePass(volumes.reader, volumes.volumes, clock, signal, volumes.limits));
  await delay(clock, windowMs, signal);
  const second = await readOnce(path, fs);
  if (!second.ok) return second;
  const after = volumes && (await readVolumePass(volumes.reader, volumes.volumes, clock, signal, volumes.limits));
  return {
    ok: true,
    first: first.record,
    second: second.record,
    ...(before && after ? { volumes: compareVolumePasses(before, after) } : {}),
  };
}

async function readOnce(path: string, fs: HeartbeatReadFsLike): Promise<ReadOutcome> {
  try {
    await fs.readdir(dirname(path));
  } catch (err) {
    return { ok: false, reason: 'mount-unreadable', detail: `cannot list ${dirname(path)} (${errnoOf(err)})` };
  }
  let text: string;
  try {
    text = await fs.readFile(path);
  } catch (err) {
    const errno = errnoOf(err);
    return errno === 'ENOENT'
      ? { ok: false, reason: 'no-heartbeat', detail: `${path} does not exist` }
      : { ok: false, reason: 'mount-unreadable', detail: `cannot read ${path} (${errno})` };
  }
  try {
    return { ok: true, record: decodeHeartbeat(text, path) };
  } catch (err) {
    return { ok: false, reason: 'error', detail: (err as Error).message };
  }
}
