import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedfishSim } from '@hafence/sim';

/** Exit code and merged output of a tool. */
export interface ToolRun {
  readonly code: number;
  readonly out: string;
  /** The argv it ran with (to prove no password is in it). */
  readonly argv: readonly string[];
}

/** Runs a program with optional stdin and extra environment, killing it after `timeoutMs`. */
export function runTool(
  cmd: string,
  args: readonly string[],
  o: { stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ToolRun> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, out: `${out}${e.message}`, argv: [cmd, ...args] });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out, argv: [cmd, ...args] });
    });
    child.stdin.end(o.stdin ?? '');
  });
}

/** A temp folder for a test's files (a CA bundle, a redfishtool config with the password, mode 0600). */
export class ToolFiles {
  readonly dir = mkdtempSync(join(tmpdir(), 'hafence-rf-'));

  /** Writes a file (0600) and returns its path. */
  write(name: string, text: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  }

  /** Removes the folder. */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * `fence_redfish` with its options as `key=value` lines on stdin (the password never in argv). TLS: `ssl_insecure`
 * unless `caBundle` is given (requests reads `REQUESTS_CA_BUNDLE`; fence_redfish has no CA option of its own).
 */
export function fenceRedfish(
  sim: RedfishSim,
  action: string,
  o: { username: string; password: string; caBundle?: string; insecure?: boolean },
): Promise<ToolRun> {
  const lines = [
    `action=${action}`,
    'ip=127.0.0.1',
    `ipport=${sim.port}`,
    `username=${o.username}`,
    `password=${o.password}`,
    'power_timeout=15',
  ];
  if (o.insecure ?? o.caBundle === undefined) lines.push('ssl_insecure=1');
  const env: Record<string, string> = o.caBundle ? { REQUESTS_CA_BUNDLE: o.caBundle } : {};
  return runTool('fence_redfish', [], { stdin: `${lines.join('\n')}\n`, env });
}

/** `redfishtool` against the simulator over HTTPS, credentials from a 0600 config file (`-c`), not argv. */
export function redfishtool(sim: RedfishSim, config: string, args: readonly string[]): Promise<ToolRun> {
  return runTool('redfishtool', ['-r', `127.0.0.1:${sim.port}`, '-c', config, '-S', 'Always', '-T', '10', ...args]);
}

// A sushy client (OpenStack's Redfish library, Debian python3-sushy) as a script: credentials and the CA come from the
// environment, never argv. Prints one JSON line.
const SUSHY_SCRIPT = `
import json, os, sys
import sushy
from sushy import auth
url, action = sys.argv[1], sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else None
user, pw = os.environ['RF_USER'], os.environ['RF_PASSWORD']
a = auth.BasicAuth(user, pw) if os.environ.get('RF_AUTH') == 'basic' else auth.SessionAuth(user, pw)
root = sushy.Sushy(url + '/redfish/v1', auth=a, verify=os.environ['REQUESTS_CA_BUNDLE'])
system = root.get_system()
out = {'id': system.identity}
if action == 'status':
    out['power'] = system.power_state.value
elif action == 'allowed':
    out['allowed'] = sorted(v.value for v in system.get_allowed_reset_system_values())
elif action == 'reset':
    system.reset_system(sushy.ResetType(arg))
a.close()
print(json.dumps(out))
`;

/** Runs the sushy script (Debian's /usr/bin/python3, where python3-sushy lives) against the simulator. */
export function sushy(
  sim: RedfishSim,
  files: ToolFiles,
  o: { username: string; password: string; basic?: boolean },
  ...args: string[]
): Promise<ToolRun> {
  const script = files.write('sushy-client.py', SUSHY_SCRIPT);
  const ca = files.write('bmc-ca.pem', sim.certPem);
  const env: Record<string, string> = {
    RF_USER: o.username,
    RF_PASSWORD: o.password,
    REQUESTS_CA_BUNDLE: ca,
    ...(o.basic ? { RF_AUTH: 'basic' } : {}),
  };
  return runTool('/usr/bin/python3', [script, sim.url, ...args], { env });
}
