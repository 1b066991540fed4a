import type { HeartbeatFsLike } from '@hafence/provider-kvm';

/** An in-memory heartbeat file system whose writes can fail with a chosen errno. */
export class MemFs implements HeartbeatFsLike {
  readonly files = new Map<string, string>();
  /** Errno every write fails with (`EROFS`, `ENOSPC`), or undefined. */
  failWith: string | undefined;
  writes = 0;

  async mkdir(): Promise<void> {}

  async writeFile(path: string, data: string): Promise<void> {
    this.writes++;
    if (this.failWith) throw Object.assign(new Error(`simulated ${this.failWith}`), { code: this.failWith });
    this.files.set(path, data);
  }

  async rename(from: string, to: string): Promise<void> {
    const data = this.files.get(from);
    if (data === undefined) throw Object.assign(new Error('no temp'), { code: 'ENOENT' });
    this.files.delete(from);
    this.files.set(to, data);
  }
}

/** A 32-character test token (never a real credential). */
export const TEST_TOKEN = 'test-token-0123456789abcdefghijk';
