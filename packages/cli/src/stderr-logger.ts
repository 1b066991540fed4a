import type { Logger } from '@hafence/core';
import type { LogLevel } from './logging/log-level.js';
import { createPinoLogger } from './logging/pino-logger.js';

let current: Logger | undefined;

function logger(): Logger {
  current ??= createPinoLogger({ level: 'info' });
  return current;
}

/**
 * The log of the long-running commands (`serve`, `agent`): pino on stderr, JSON lines
 * (readable ones on a TTY), secret fields redacted. Level `info` until
 * {@link setStderrLogLevel} is called.
 */
export const stderrLogger: Logger = {
  debug: (message, fields) => logger().debug(message, fields),
  info: (message, fields) => logger().info(message, fields),
  warn: (message, fields) => logger().warn(message, fields),
  error: (message, fields) => logger().error(message, fields),
};

/** Sets the lowest level {@link stderrLogger} writes (the command's `--log-level` / `HAFENCE_LOG_LEVEL`). */
export function setStderrLogLevel(level: LogLevel): void {
  current = createPinoLogger({ level });
}
