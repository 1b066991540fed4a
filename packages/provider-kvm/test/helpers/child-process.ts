import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The environment for a child process whose output a test reads: without `FORCE_COLOR` (lerna sets it, and Node's
 * `console.log` then wraps numbers in colour codes) and with `NO_COLOR`.
 */
export function plainEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env['FORCE_COLOR'];
  return env;
}

/**
 * Runs `body` as an ES module in a child Node process, after `Secret` (from @hafence/core) and `agentRequest` (from
 * @hafence/provider-kvm) are imported. Resolves with its exit code (or why it did not exit within 8 s: it is then
 * killed) and everything it printed.
 */
export async function runAgentClientChild(body: string): Promise<{ code: number | string; out: string }> {
  const client = fileURLToPath(import.meta.resolve('@hafence/provider-kvm'));
  const core = fileURLToPath(import.meta.resolve('@hafence/core'));
  const script = `
    const { Secret } = await import(${JSON.stringify(core)});
    const { agentRequest } = await import(${JSON.stringify(client)});
    ${body}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: plainEnv(),
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | string>((r) => {
    const t = setTimeout(() => {
      child.kill();
      r('still running after 8 s');
    }, 8_000);
    child.on('exit', (c) => {
      clearTimeout(t);
      r(c ?? 'signal');
    });
  });
  return { code, out };
}
