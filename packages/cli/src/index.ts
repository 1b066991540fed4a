/**
 * `@hafence/cli`: the `hafence` command. Its library entry point runs the command in
 * process (`run(argv)`), e.g. from a wrapper script or a test.
 * @packageDocumentation
 */
export { buildProgram, run } from './program.js';
export { EXIT, exitCodeFor, worstExitCode } from './exit-codes.js';
export { createPinoLogger } from './logging/pino-logger.js';
export type { LogDestination, PinoLoggerOptions } from './logging/pino-logger.js';
export { formatLogLine } from './logging/tty-format.js';
export { LOG_LEVELS, LOG_LEVEL_ENV, resolveLogLevel } from './logging/log-level.js';
export type { LogLevel } from './logging/log-level.js';
export { REDACT_DEPTH, SECRET_KEYS, redactPaths } from './logging/redact-paths.js';
