/** Fields of a JSON log line that the readable form prints in its own place. */
const HEAD = new Set(['t', 'level', 'message']);

const COLORS: Readonly<Record<string, string>> = {
  debug: '\x1b[90m',
  info: '\x1b[36m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
};
const RESET = '\x1b[0m';

/** A value printed bare when it is a plain word (no spaces, quotes or control characters), else as JSON. */
function show(value: unknown): string {
  if (typeof value === 'string' && /^[\w.:/@+,[\]-]+$/.test(value)) return value;
  return JSON.stringify(value) ?? String(value);
}

/** Control characters (a terminal's escape sequences among them) written as JSON escapes. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/**
 * The readable form of one JSON log line (as the pino adapter writes them), for a person
 * at a terminal: `HH:MM:SS.mmmZ LEVEL message key=value …`, the level coloured when
 * `color` is set. Control characters in the message or values are escaped, so a logged
 * value cannot drive the terminal. A line that is not a JSON object is returned as it was.
 *
 * @example
 * formatLogLine('{"level":"info","t":"2026-11-30T17:30:01.123Z","message":"agent started","host":"kvm1"}\n', false);
 * // '17:30:01.123Z INFO  agent started host=kvm1\n'
 */
export function formatLogLine(line: string, color: boolean): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line;
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return line;
  const r = record as Record<string, unknown>;
  const t = typeof r.t === 'string' ? r.t.slice(r.t.indexOf('T') + 1) : '';
  const level = typeof r.level === 'string' ? r.level : 'info';
  const label = level.toUpperCase().padEnd(5);
  const tag = color && COLORS[level] !== undefined ? `${COLORS[level]}${label}${RESET}` : label;
  const fields = Object.entries(r)
    .filter(([k]) => !HEAD.has(k))
    .map(([k, v]) => `${printable(k)}=${printable(show(v))}`);
  const message = printable(typeof r.message === 'string' ? r.message : '');
  return `${[t, tag, message, ...fields].filter((s) => s !== '').join(' ')}\n`;
}
