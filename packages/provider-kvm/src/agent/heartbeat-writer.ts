import { mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { HeartbeatRecord } from '../ports.js';
import { errnoOf, HeartbeatWriteError } from './agent-errors.js';
import { DEFAULT_HEARTBEAT_DIR, encodeHeartbeat, heartbeatPath } from './heartbeat-file.js';

/** The file operations the writer needs: a test seam for read-only and full disks. */
export interface HeartbeatFsLike {
  /** Creates `path` (and parents) if missing. */
  mkdir(path: string): Promise<void>;
  /** Writes `data` to a new file at `path` and flushes it to stable storage. */
  writeFile(path: string, data: string): Promise<void>;
  /** Atomically replaces `to` with `from`. */
  rename(from: string, to: string): Promise<void>;
}

/** The real file system: write, `fdatasync`, close, then rename. */
export const nodeHeartbeatFs: HeartbeatFsLike = {
  mkdir: async (path) => {
    await mkdir(path, { recursive: true });
  },
  writeFile: async (path, data) => {
    const file = await open(path, 'w', 0o644);
    try {
      await file.writeFile(data);
      await file.datasync();
    } finally {
      await file.close();
    }
  },
  rename,
};

/** Options of {@link HeartbeatWriter}. */
export interface HeartbeatWriterOptions {
  readonly mount: string;
  readonly hostId: string;
  /** Folder inside the mount (default `hafence`). */
  readonly dir?: string;
  readonly fs?: HeartbeatFsLike;
}

/**
 * Writes `<mount>/<dir>/hb-<hostId>` atomically: the record goes to a temp file in the
 * same folder, which is then renamed over the old one, so a reader never sees half a
 * record (docs/behaviour.md#kvm-hosts). The counter grows on every attempt, so each written content differs.
 */
export class HeartbeatWriter {
  /** Absolute path of the heartbeat file. */
  readonly path: string;
  private readonly fs: HeartbeatFsLike;
  private counter = 0;

  /** Binds the writer to its host's file. */
  constructor(options: HeartbeatWriterOptions) {
    this.path = heartbeatPath(options.mount, options.hostId, options.dir ?? DEFAULT_HEARTBEAT_DIR);
    this.fs = options.fs ?? nodeHeartbeatFs;
  }

  /** Writes one record; throws {@link HeartbeatWriteError} with the system error code. */
  async write(state: Omit<HeartbeatRecord, 'counter'>): Promise<HeartbeatRecord> {
    const record: HeartbeatRecord = { counter: ++this.counter, ...state };
    const temp = `${dirname(this.path)}/.${this.path.slice(dirname(this.path).length + 1)}.tmp`;
    try {
      await this.fs.mkdir(dirname(this.path));
      await this.fs.writeFile(temp, encodeHeartbeat(record));
      await this.fs.rename(temp, this.path);
    } catch (err) {
      throw new HeartbeatWriteError(this.path, errnoOf(err), { cause: err });
    }
    return record;
  }
}
