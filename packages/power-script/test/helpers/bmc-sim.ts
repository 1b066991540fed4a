import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Secret, type ChassisPower, type PowerTarget } from '@hafence/core';

const run = promisify(execFile);

/** The repository's scripts/bmc-sim, found by walking up from this file. */
export function simScripts(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (dir !== '/') {
    const candidate = join(dir, 'scripts', 'bmc-sim');
    if (existsSync(join(candidate, 'start-bmcs.sh'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('scripts/bmc-sim not found above the test directory');
}

/** Fails (never skips) when a tool the real-BMC tests need is missing. */
export function requireTools(...tools: string[]): void {
  for (const t of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${t}`], {
        env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` },
        stdio: 'pipe',
      });
    } catch {
      throw new Error(`${t} is not installed: run scripts/setup.sh (apt-get install openipmi ipmitool fence-agents)`);
    }
  }
}

/** Running ipmi_sim instances on loopback, with their power files. */
export class BmcSims {
  readonly runDir = mkdtempSync(join(tmpdir(), 'hafence-ps-sim-'));

  private constructor(
    readonly firstPort: number,
    readonly count: number,
    readonly user: string,
    readonly password: string,
  ) {}

  /** Starts `count` simulators on UDP `firstPort`…; power starts off. */
  static async start(count: number, firstPort: number, user = 'admin', password = 'Pw-Sim-4471'): Promise<BmcSims> {
    requireTools('ipmi_sim', 'ipmitool');
    const sims = new BmcSims(firstPort, count, user, password);
    await run('sh', [join(simScripts(), 'start-bmcs.sh'), String(count), String(firstPort), user, password], {
      env: { ...process.env, BMCSIM_RUN: sims.runDir, BMCSIM_POWER: 'off' },
    });
    return sims;
  }

  /** Ports of every instance. */
  get ports(): number[] {
    return Array.from({ length: this.count }, (_, i) => this.firstPort + i);
  }

  /** A power target for the instance on `port` (cipher suite 3: ipmi_sim has no 17). */
  target(port: number, password = this.password): PowerTarget {
    return {
      host: `bmc${port}`,
      address: '127.0.0.1',
      port,
      username: this.user,
      password: new Secret(password),
      options: { cipher: 3 },
    };
  }

  /** The chassis power the simulator reports. */
  readPower(port: number): ChassisPower {
    return readFileSync(this.powerFile(port), 'utf8').trim() === '1' ? 'ON' : 'OFF';
  }

  /** Changes the chassis power behind every client's back. */
  setPower(port: number, state: ChassisPower): void {
    writeFileSync(this.powerFile(port), state === 'ON' ? '1\n' : '0\n');
  }

  /** The simulator's request log of the chassis. */
  chassisLog(port: number): string {
    const f = join(this.runDir, `bmc-${port}`, 'chassis', 'chassis.log');
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }

  /** Stops every instance and removes the run directory. */
  async stop(): Promise<void> {
    await run('sh', [join(simScripts(), 'stop-bmcs.sh'), '--purge'], {
      env: { ...process.env, BMCSIM_RUN: this.runDir },
    });
    rmSync(this.runDir, { recursive: true, force: true });
  }

  private powerFile(port: number): string {
    return join(this.runDir, `bmc-${port}`, 'chassis', 'power');
  }
}

/** Polls until `read` gives `want` or `ms` passes; returns the last value. */
export async function eventually<T>(read: () => T | Promise<T>, want: T, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  let last = await read();
  while (last !== want && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 25));
    last = await read();
  }
  return last;
}

/**
 * Watches every process of a process group while it lives and records each one's argv
 * (from `/proc/<pid>/cmdline`): the proof that no secret ever reaches a command line.
 */
export function watchProcessGroup(pgid: number, intervalMs = 2): { stop(): string[] } {
  const seen = new Set<string>();
  const scan = () => {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[2]) !== pgid) continue;
        const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
        seen.add(argv);
      } catch {
        // the process ended between readdir and read
      }
    }
  };
  scan();
  const timer = setInterval(scan, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return [...seen];
    },
  };
}
