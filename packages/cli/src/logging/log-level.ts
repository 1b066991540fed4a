import { ConfigError } from '@hafence/core';

/** The levels of the core `Logger` port, lowest first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The environment variable that sets the level when `--log-level` is not given. */
export const LOG_LEVEL_ENV = 'HAFENCE_LOG_LEVEL';

/**
 * The level of a long-running command: `--log-level` when given, else `HAFENCE_LOG_LEVEL`,
 * else `info`. A value outside {@link LOG_LEVELS} is a `ConfigError` naming where it came from.
 *
 * @example
 * resolveLogLevel(opts.logLevel, process.env); // 'info' when neither is set
 */
export function resolveLogLevel(flag: string | undefined, env: NodeJS.ProcessEnv): LogLevel {
  const [path, value] = flag !== undefined ? ['--log-level', flag] : [LOG_LEVEL_ENV, env[LOG_LEVEL_ENV]];
  if (value === undefined || (path === LOG_LEVEL_ENV && value === '')) return 'info';
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new ConfigError([{ path, value, rule: `must be one of ${LOG_LEVELS.join(', ')}` }]);
}
