import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import { HaError } from '@hafence/core';
import { hasControlChars } from '@hafence/core/internal';
import type { VmVolume } from '../ports.js';

const run = promisify(execFile);

/** Most volumes an agent lists (a larger inventory is cut, and says so). */
export const MAX_LISTED_VOLUMES = 4096;

/** Largest inventory file read (bytes). */
export const MAX_INVENTORY_FILE_BYTES = 1 << 20;

/**
 * The agent's view of its running VMs (docs/behaviour.md#kvm-hosts): which volumes they use. `hafence serve`
 * asks for it while the host is healthy and keeps the answer for the day the host is a
 * suspect and its neighbours must look for VM writes.
 */
export interface VmInventory {
  /** The volumes of the VMs running now. Rejects with {@link VmInventoryError} when it cannot tell. */
  runningVolumes(signal: AbortSignal): Promise<VmVolume[]>;
}

/** The VM inventory could not be read (virsh failed, the file is malformed). */
export class VmInventoryError extends HaError {
  /** Builds the error; `detail` says what went wrong. */
  constructor(detail: string, options?: { cause?: unknown }) {
    super('HAF5107', `VM inventory: ${detail}`, options);
  }
}

/** Longest VM or volume name listed or read (characters). */
export const MAX_VOLUME_NAME = 1024;

/**
 * A VM or volume name hafence accepts: a non-empty string of at most
 * {@link MAX_VOLUME_NAME} characters, without control characters.
 */
export function isVolumeName(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_VOLUME_NAME && !hasControlChars(value);
}

function volume(vm: string, path: string): VmVolume | undefined {
  return isVolumeName(vm) && isVolumeName(path) ? { vm, volume: path } : undefined;
}

/**
 * {@link VmInventory} from libvirt: `virsh list --name --state-running`, then `virsh
 * domblklist --details` per domain; the `disk` devices' sources are the volumes (CD-ROMs
 * and empty drives are left out). argv only, never a shell; every call with a timeout.
 */
export class VirshVmInventory implements VmInventory {
  /** `timeoutMs` bounds each virsh call (default 5 s). */
  constructor(private readonly timeoutMs = 5_000) {}

  async runningVolumes(signal: AbortSignal): Promise<VmVolume[]> {
    const names = (await this.virsh(['list', '--name', '--state-running'], signal))
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s.length > 0 && !hasControlChars(s));
    const volumes: VmVolume[] = [];
    for (const name of names) {
      for (const line of (await this.virsh(['domblklist', '--details', '--domain', name], signal)).split('\n')) {
        // Type  Device  Target  Source — the source may contain spaces.
        const match = /^\s*(\S+)\s+disk\s+(\S+)\s+(.+?)\s*$/.exec(line);
        const source = match?.[3];
        const v = source !== undefined && source !== '-' ? volume(name, source) : undefined;
        if (v) volumes.push(v);
      }
    }
    return volumes;
  }

  private async virsh(args: string[], signal: AbortSignal): Promise<string> {
    try {
      return (await run('virsh', args, { signal, timeout: this.timeoutMs, maxBuffer: 1 << 20 })).stdout;
    } catch (err) {
      throw new VmInventoryError(
        `virsh ${args[0]} failed (${(err as { code?: unknown }).code ?? (err as Error).message})`,
        { cause: err },
      );
    }
  }
}

/**
 * Reads a regular file of at most {@link MAX_INVENTORY_FILE_BYTES}; the open never blocks (a FIFO is refused, not
 * waited on).
 */
async function readSmallFile(path: string): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new VmInventoryError(`${path} is not a regular file`);
    if (st.size > MAX_INVENTORY_FILE_BYTES)
      throw new VmInventoryError(`${path} is larger than ${MAX_INVENTORY_FILE_BYTES} bytes`);
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await handle.read(buf, 0, st.size, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * {@link VmInventory} from a JSON file `{"<vm>": ["<volume>", …], …}`, read afresh on every
 * call: for tests, and for hosts whose VMs another tool manages. Only a regular file of at
 * most 1 MiB is read (a FIFO or a device is refused at once, never waited on).
 */
export class FileVmInventory implements VmInventory {
  /** Reads `path` on every call. */
  constructor(private readonly path: string) {}

  async runningVolumes(): Promise<VmVolume[]> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readSmallFile(this.path));
    } catch (err) {
      if (err instanceof VmInventoryError) throw err;
      throw new VmInventoryError(
        `cannot read ${this.path} as JSON (${(err as { code?: string }).code ?? 'malformed'})`,
        { cause: err },
      );
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new VmInventoryError(`${this.path} must hold an object of VM name → volume list`);
    const volumes: VmVolume[] = [];
    for (const [vm, list] of Object.entries(parsed)) {
      if (!Array.isArray(list)) throw new VmInventoryError(`${this.path}: the volumes of a VM must be a list`);
      for (const path of list) {
        const v = typeof path === 'string' ? volume(vm, path) : undefined;
        if (!v)
          throw new VmInventoryError(
            `${this.path}: a volume must be a non-empty path of at most ${MAX_VOLUME_NAME} characters, without control characters`,
          );
        volumes.push(v);
      }
    }
    return volumes;
  }
}
