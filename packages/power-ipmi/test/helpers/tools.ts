import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from packages/power-ipmi/dist-test/test/helpers). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));

/** Result of a finished child process. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program without a shell; secrets go through `env`, never `args`. */
export function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 30000,
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** A set of OpenIPMI `ipmi_sim` instances started by the repo's scripts. */
export interface IpmiSims {
  readonly run: string;
  powerFile(port: number): string;
  readPower(port: number): Promise<'ON' | 'OFF'>;
  setPower(port: number, p: 'ON' | 'OFF'): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `count` ipmi_sim on `firstPort`…; fails (never skips) when a tool is missing. */
export async function startIpmiSims(
  count: number,
  firstPort: number,
  user: string,
  password: string,
): Promise<IpmiSims> {
  const runDir = await mkdtemp(join(tmpdir(), 'hafence-ipmisim-'));
  const env = { BMCSIM_RUN: runDir };
  const started = await run(
    'sh',
    [join(REPO_ROOT, 'scripts/bmc-sim/start-bmcs.sh'), String(count), String(firstPort), user, password],
    env,
    60000,
  );
  if (started.code !== 0) throw new Error(`start-bmcs.sh failed: ${started.stderr || started.stdout}`);
  const powerFile = (port: number) => join(runDir, `bmc-${port}`, 'chassis', 'power');
  return {
    run: runDir,
    powerFile,
    readPower: async (port) => ((await readFile(powerFile(port), 'utf8')).trim() === '1' ? 'ON' : 'OFF'),
    setPower: async (port, p) => writeFile(powerFile(port), p === 'ON' ? '1\n' : '0\n'),
    stop: async () => {
      await run('sh', [join(REPO_ROOT, 'scripts/bmc-sim/stop-bmcs.sh'), '--purge'], env);
      await rm(runDir, { recursive: true, force: true });
    },
  };
}

/** pyghmi's `fakebmc` on `port` (admin / password, suite 3 only). Only loopback traffic is sent to it. */
export async function startFakeBmc(port: number): Promise<{ child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn('fakebmc', ['--port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  // A missing fakebmc must fail the suite, not skip it.
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (e) =>
      reject(new Error(`fakebmc could not start (apt-get install python3-pyghmi): ${e.message}`)),
    );
  });
  return {
    child,
    stop: async () => {
      if (child.exitCode === null && child.pid) {
        const gone = new Promise((r) => child.once('exit', r));
        process.kill(child.pid, 'SIGTERM');
        await gone;
      }
    },
  };
}
