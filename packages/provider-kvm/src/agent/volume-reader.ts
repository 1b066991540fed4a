import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { HaError } from '@hafence/core';
import { isVolumeName, MAX_VOLUME_NAME } from './vm-inventory.js';
import { errnoOf } from './agent-errors.js';

/** The fingerprint of a volume that does not exist (both passes alike prove nothing). */
export const VOLUME_MISSING = 'missing';

/**
 * The fingerprint of a volume on storage this reader does not handle (e.g. an RBD image for the file reader): skipped,
 * proves nothing.
 */
export const VOLUME_UNSUPPORTED = 'unsupported';

/**
 * Reads a VM volume's attributes on a checker host (docs/behaviour.md#kvm-hosts, "VM volume activity"). The
 * storage plugin point: files on a shared mount today; a Ceph RBD or iSCSI reader
 * implements the same interface (e.g. from the image's header or the LUN's write counters).
 */
export interface VolumeReader {
  /**
   * An opaque fingerprint of `volume`'s attributes, read afresh — never from a cache —
   * that changes whenever the volume is written; {@link VOLUME_MISSING} when it does not
   * exist, {@link VOLUME_UNSUPPORTED} when it is not on this reader's storage. Rejects
   * with {@link VolumeReadError} when it cannot tell.
   */
  fingerprint(volume: string, signal: AbortSignal): Promise<string>;
}

/** A volume could not be read (refused name, I/O error, timeout, reader busy). */
export class VolumeReadError extends HaError {
  /** Builds the error for `volume`; `detail` says what went wrong. */
  constructor(
    readonly volume: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super('HAF5106', `VM volume ${volume}: ${detail}`, options);
  }
}

/** The attribute read a {@link FileVolumeReader} needs: a test seam for hung or failing mounts. */
export interface VolumeFsLike {
  /**
   * Opens `path` read-only without blocking (a FIFO must not hang the open; on NFS the
   * open revalidates the attributes), reads them from the open file, closes it.
   * `regular` is false for anything but a regular file.
   */
  attributesAfterOpen(path: string): Promise<{ size: bigint; mtimeNs: bigint; ctimeNs: bigint; regular: boolean }>;
  /** The path with every symbolic link resolved. */
  realpath(path: string): Promise<string>;
}

/** The real file system. */
export const nodeVolumeFs: VolumeFsLike = {
  async attributesAfterOpen(path) {
    const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    try {
      const st = await handle.stat({ bigint: true });
      return { size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, regular: st.isFile() };
    } finally {
      await handle.close();
    }
  },
  realpath: (path) => realpath(path),
};

/** Options of {@link FileVolumeReader}. */
export interface FileVolumeReaderOptions {
  /** The shared mount: every volume must resolve inside it. */
  readonly mount: string;
  /**
   * File operations outstanding at once, hung ones included (default 2). A hung NFS read
   * holds a libuv thread until the server answers; bounding them keeps threads for the
   * agent's own heartbeat writes. Past the bound a read fails at once (`reader busy`).
   */
  readonly maxOutstanding?: number;
  readonly fs?: VolumeFsLike;
}

/**
 * {@link VolumeReader} for volumes that are files on the shared mount (NFS or a local
 * file system): each read opens the file afresh — NFS close-to-open consistency then
 * revalidates its attributes with the server — and fingerprints size, mtime and ctime
 * from the open file. No clock agreement is needed: only equality is compared. Volumes
 * are absolute paths of regular files; one outside the mount (another pool, a network
 * disk, a link leading out) or not a regular file (a FIFO, a device, a folder) is
 * {@link VOLUME_UNSUPPORTED}; a name with control characters is refused.
 */
export class FileVolumeReader implements VolumeReader {
  private readonly mount: string;
  private readonly maxOutstanding: number;
  private readonly fs: VolumeFsLike;
  private outstanding = 0;
  private resolvedMount: string | undefined;

  /** Binds the reader to the mount. */
  constructor(options: FileVolumeReaderOptions) {
    this.mount = resolve(options.mount);
    this.maxOutstanding = options.maxOutstanding ?? 2;
    this.fs = options.fs ?? nodeVolumeFs;
  }

  async fingerprint(volume: string): Promise<string> {
    const path = this.resolve(volume);
    if (path === undefined) return VOLUME_UNSUPPORTED;
    if (this.outstanding >= this.maxOutstanding)
      throw new VolumeReadError(volume, `reader busy: ${this.outstanding} reads of the mount still outstanding`);
    this.outstanding++;
    try {
      // A link inside the mount that leads out of it is not a volume of the shared storage.
      if (this.inside(await this.fs.realpath(path), await this.realMount()) === undefined) return VOLUME_UNSUPPORTED;
      const a = await this.fs.attributesAfterOpen(path);
      // A FIFO, a device or a folder is no VM volume this reader can judge (a shared LUN's attributes do not move on
      // writes).
      if (!a.regular) return VOLUME_UNSUPPORTED;
      return `${a.size}:${a.mtimeNs}:${a.ctimeNs}`;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return VOLUME_MISSING;
      throw new VolumeReadError(volume, `cannot read its attributes (${errnoOf(err)})`, { cause: err });
    } finally {
      this.outstanding--; // only when the operation really ended: a hung one stays counted
    }
  }

  /** The volume's path inside the mount; undefined for a volume elsewhere (another storage). */
  private resolve(volume: string): string | undefined {
    if (!isVolumeName(volume)) {
      throw new VolumeReadError(
        volume.slice(0, 80),
        `not a volume path (empty, over ${MAX_VOLUME_NAME} characters, or control characters)`,
      );
    }
    // Not a path (an RBD image `pool/image` is relative but libvirt lists file volumes absolute): not ours.
    if (!isAbsolute(volume)) return undefined;
    return this.inside(resolve(volume), this.mount);
  }

  /** `path` when it lies strictly inside `mount`, else undefined. */
  private inside(path: string, mount: string): string | undefined {
    const rel = relative(mount, path);
    return rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? undefined : path;
  }

  /** The mount with its own links resolved (once it could be resolved). */
  private async realMount(): Promise<string> {
    this.resolvedMount ??= await this.fs.realpath(this.mount).catch(() => undefined);
    return this.resolvedMount ?? this.mount;
  }
}
