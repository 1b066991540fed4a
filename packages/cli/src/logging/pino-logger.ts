import { pino } from 'pino';
import { systemClock, type Clock, type Logger, type LogFields } from '@hafence/core';
import type { LogLevel } from './log-level.js';
import { redactPaths } from './redact-paths.js';
import { formatLogLine } from './tty-format.js';

/** Where log lines go: anything with a `write(line)` (a stream, or a test's collector). */
export interface LogDestination {
  write(line: string): unknown;
}

/** Options of {@link createPinoLogger}. */
export interface PinoLoggerOptions {
  /** The lowest level written; lower ones are dropped. */
  readonly level: LogLevel;
  /** Where lines go (default: `process.stderr`). */
  readonly destination?: LogDestination;
  /** Readable lines ({@link formatLogLine}) instead of JSON (default: whether stderr is a TTY). */
  readonly pretty?: boolean;
  /** Colour the level in readable lines (default: when pretty and `NO_COLOR` is unset). */
  readonly color?: boolean;
  /** The time of each line's `t` (default: the system clock). */
  readonly clock?: Clock;
}

/** The replacement of a redacted value, as `Secret` prints itself. */
const CENSOR = '[redacted]';

/**
 * The core {@link Logger} port on pino: one JSON object per line
 * (`{"level":"info","t":"<ISO time>", …fields, "message":"…"}`), every secret field
 * (see `SECRET_KEYS`) replaced by `[redacted]` before it is written, `Secret` values
 * printing `[redacted]` themselves. With `pretty`, the same lines are written in a
 * readable form instead (no worker thread: formatted in the writing call).
 *
 * @example
 * const logger = createPinoLogger({ level: 'info' });
 * logger.info('agent started', { host: 'kvm1' });
 */
export function createPinoLogger(options: PinoLoggerOptions): Logger {
  const clock = options.clock ?? systemClock;
  const out = options.destination ?? process.stderr;
  const pretty = options.pretty ?? process.stderr.isTTY === true;
  const color = options.color ?? (pretty && process.env.NO_COLOR === undefined);
  const destination: LogDestination = pretty ? { write: (line: string) => out.write(formatLogLine(line, color)) } : out;
  const log = pino(
    {
      level: options.level,
      messageKey: 'message',
      base: null,
      timestamp: () => `,"t":"${new Date(clock.now()).toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactPaths(), censor: CENSOR },
    },
    destination,
  );
  const at =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      log[level](fields ?? {}, message);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
