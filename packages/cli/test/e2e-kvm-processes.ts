import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { HAFENCE_BIN } from './power-sim-helper.js';

/** A `hafence` child process in its own process group, its output captured line by line. */
export class HafenceProcess {
  readonly stdoutLines: string[] = [];
  stderr = '';
  /** `/proc/<pid>/cmdline` (argv as `ps` shows it) as last read by {@link HafenceProcess.readCmdline}. */
  cmdline = '';
  exitCode: number | null | undefined = undefined;
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private partial = '';

  /** Spawns `node bin.js ARGS` with `env` added to this process's environment. */
  constructor(readonly name: string, args: readonly string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [HAFENCE_BIN, ...args], {
      env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { this.stderr += chunk; });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => {
      this.exitCode = code;
      resolve(code);
    }));
  }

  /** Reads `/proc/<pid>/cmdline` of the live process and keeps it (for checks after it is gone). */
  readCmdline(): string {
    if (this.alive) this.cmdline = readCmdline(this.pid) || this.cmdline;
    return this.cmdline;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** stdout lines parsed as JSON (non-JSON lines skipped). */
  json<T = Record<string, unknown>>(): T[] {
    const out: T[] = [];
    for (const line of this.stdoutLines) {
      try {
        out.push(JSON.parse(line) as T);
      } catch { /* not an event line */ }
    }
    return out;
  }

  /** Sends `signal` to the process itself (`kill -9 PID` with SIGKILL). */
  kill(signal: NodeJS.Signals): void {
    if (this.alive) process.kill(this.pid, signal);
  }

  /** SIGKILL to the whole process group; never throws. */
  killGroup(): void {
    if (!this.alive) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch { /* already gone */ }
  }

  /** Resolves with the exit code, or rejects after `ms`. */
  async waitExit(ms: number): Promise<number | null> {
    return withTimeout(this.exited, ms, `${this.name} did not exit within ${ms} ms`);
  }

  private onStdout(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    this.stdoutLines.push(...parts.filter((l) => l.length > 0));
  }
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Polls `check` every 50 ms until it returns a value other than undefined/false. */
export async function waitFor<T>(what: string, ms: number, check: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); }),
  ]);
}

/** `count` TCP ports on 127.0.0.1 in 9500–9599 that are free right now, from a random start. */
export async function freePorts(count: number): Promise<number[]> {
  const found: number[] = [];
  const start = Math.floor(Math.random() * 100);
  for (let i = 0; i < 100 && found.length < count; i++) {
    const port = 9500 + ((start + i) % 100);
    if (await isFree(port)) found.push(port);
  }
  if (found.length < count) throw new Error('not enough free ports in 9500-9599');
  return found;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
