import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

function repoRoot(): string {
  let dir = here;
  while (dir !== '/' && !existsSync(join(dir, 'scripts', 'bmc-sim', 'start-bmcs.sh'))) dir = dirname(dir);
  if (dir === '/') throw new Error('scripts/bmc-sim not found');
  return dir;
}

/** The compiled `hafence` entry point. */
export const HAFENCE_BIN = join(repoRoot(), 'packages', 'cli', 'dist', 'bin.js');

/** Result of one `hafence` run. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs `hafence ARGS` as a real process with `env` added. */
export function hafence(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [HAFENCE_BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

/**
 * Runs `hafence ARGS` and kills it after `ms`: a command that should refuse its input
 * but starts instead (serve, agent) ends with code -1 rather than hanging the test.
 */
export function within(ms: number, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [HAFENCE_BIN, ...args],
      { env: { ...process.env, ...env }, timeout: ms, killSignal: 'SIGKILL', maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : -1
          : 0;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

/** ipmi_sim instances for the CLI tests (power starts off). */
export class CliSims {
  readonly runDir = mkdtempSync(join(tmpdir(), 'hafence-cli-sim-'));
  readonly user = 'admin';
  readonly password = 'Cli-Sim-Pw-6120';

  private constructor(
    readonly firstPort: number,
    readonly count: number,
  ) {}

  /** Starts `count` simulators from `firstPort`; fails if ipmi_sim or ipmitool is missing. */
  static async start(count: number, firstPort: number): Promise<CliSims> {
    const s = new CliSims(firstPort, count);
    await run(
      'sh',
      [join(repoRoot(), 'scripts', 'bmc-sim', 'start-bmcs.sh'), String(count), String(firstPort), s.user, s.password],
      {
        env: { ...process.env, BMCSIM_RUN: s.runDir, BMCSIM_POWER: 'off' },
      },
    );
    return s;
  }

  power(port: number): 'ON' | 'OFF' {
    return readFileSync(join(this.runDir, `bmc-${port}`, 'chassis', 'power'), 'utf8').trim() === '1' ? 'ON' : 'OFF';
  }

  setPower(port: number, state: 'ON' | 'OFF'): void {
    writeFileSync(join(this.runDir, `bmc-${port}`, 'chassis', 'power'), state === 'ON' ? '1\n' : '0\n');
  }

  async stop(): Promise<void> {
    await run('sh', [join(repoRoot(), 'scripts', 'bmc-sim', 'stop-bmcs.sh'), '--purge'], {
      env: { ...process.env, BMCSIM_RUN: this.runDir },
    });
    rmSync(this.runDir, { recursive: true, force: true });
  }
}
