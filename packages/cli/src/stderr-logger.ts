import { systemClock, type Logger } from '@hafence/core';

/** Structured log of the long-running commands: JSON lines on stderr. Callers never pass secrets in fields. */
export const stderrLogger: Logger = {
  debug: () => {},
  info: (message, fields) => write('info', message, fields),
  warn: (message, fields) => write('warn', message, fields),
  error: (message, fields) => write('error', message, fields),
};

function write(level: string, message: string, fields?: Record<string, unknown>): void {
  process.stderr.write(
    `${JSON.stringify({ t: new Date(systemClock.now()).toISOString(), level, message, ...fields })}\n`,
  );
}
