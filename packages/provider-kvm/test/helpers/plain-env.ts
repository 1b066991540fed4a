/**
 * The environment for a child process whose output a test reads: without `FORCE_COLOR` (lerna sets it, and Node's
 * `console.log` then wraps numbers in colour codes) and with `NO_COLOR`.
 */
export function plainEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env['FORCE_COLOR'];
  return env;
}
