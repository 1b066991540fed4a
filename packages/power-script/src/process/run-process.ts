import { spawn } from 'node:child_process';
import { DriverError, type Clock } from '@hafence/core';

/** What to run: never a secret in `args` (argv is world-readable in `ps`). */
export interface ProcessSpec {
  readonly command: string;
  readonly args: readonly string[];
  /** The child's whole environment (build it with {@link minimalEnv}). */
  readonly env: Readonly<Record<string, string>>;
  /** Written to the child's stdin, which is then closed. */
  readonly stdin?: string;
}

/** Limits and hooks of one run. */
export interface ProcessLimits {
  /** Aborting kills the child's whole process group. */
  readonly signal: AbortSignal;
  /** Bytes kept of stdout and of stderr each; the rest is dropped. */
  readonly maxOutputBytes: number;
  /** Time source for the post-kill grace. */
  readonly clock: Clock;
  /** Called with the child's PID right after it started (observability, tests). */
  readonly onSpawn?: (pid: number) => void;
}

/** How a child ended and what it printed (capped). */
export interface ProcessResult {
  /** Exit status, or `null` when killed by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Whether stdout or stderr went over the cap. */
  readonly truncated: boolean;
}

const KILL_GRACE_MS = 500;

/** Default search path of a child: the system's, never the caller's. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A minimal environment: PATH, the C locale, and `extra` (e.g. `IPMI_PASSWORD`); nothing inherited. */
export function minimalEnv(extra: Readonly<Record<string, string>> = {}, path = DEFAULT_PATH): Record<string, string> {
  return { PATH: path, LANG: 'C', LC_ALL: 'C', ...extra };
}

class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  overflow = false;

  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    const room = this.max - this.size;
    if (chunk.length > room) this.overflow = true;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(part);
    this.size += part.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/**
 * Runs a child in its own process group with a minimal environment and capped output.
 * When `signal` aborts, the whole group (the child and everything it started) gets
 * SIGKILL and the promise rejects with the signal's reason once the child is gone.
 * A missing or non-executable binary is a {@link DriverError}.
 */
export function runProcess(
  spec: ProcessSpec,
  limits: ProcessLimits,
  who: { driver: string; host: string },
): Promise<ProcessResult> {
  return new Promise<ProcessResult>((resolve, reject) => {
    if (limits.signal.aborted) {
      reject(limits.signal.reason);
      return;
    }
    const child = spawn(spec.command, [...spec.args], {
      env: spec.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const out = new CappedBuffer(limits.maxOutputBytes);
    const err = new CappedBuffer(limits.maxOutputBytes);
    let done = false;
    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const onAbort = () => {
      killGroup();
      if (child.exitCode !== null || child.signalCode !== null) {
        finish(() => reject(limits.signal.reason));
        return;
      }
      // settle once the child is reaped, or shortly after if it is stuck in the kernel
      const grace = limits.clock.setTimeout(() => finish(() => reject(limits.signal.reason)), KILL_GRACE_MS);
      child.once('exit', () => {
        limits.clock.clearTimeout(grace);
        finish(() => reject(limits.signal.reason));
      });
    };
    const finish = (settle: () => void) => {
      if (done) return;
      done = true;
      limits.signal.removeEventListener('abort', onAbort);
      settle();
    };
    limits.signal.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => {}); // a child that does not read stdin: EPIPE is not our failure
    child.on('error', (e: NodeJS.ErrnoException) => {
      const why =
        e.code === 'ENOENT'
          ? 'executable not found'
          : e.code === 'EACCES'
            ? 'executable not permitted'
            : (e.code ?? 'spawn failed');
      finish(() => reject(new DriverError(who.driver, who.host, `${why}: ${spec.command}`, { cause: e })));
    });
    if (child.pid !== undefined && limits.onSpawn) {
      // spawn() returns after exec: /proc/<pid>/cmdline already shows the program's argv
      try {
        limits.onSpawn(child.pid);
      } catch {
        // an observer's failure is not the run's
      }
    }
    child.on('close', (code, sig) => {
      if (limits.signal.aborted) return; // onAbort settles
      killGroup(); // reap grandchildren the child left behind
      finish(() =>
        resolve({ code, signal: sig, stdout: out.text(), stderr: err.text(), truncated: out.overflow || err.overflow }),
      );
    });
    child.stdin.end(spec.stdin ?? '');
  });
}
