import { isIP } from 'node:net';

/**
 * C0 and C1 control characters and DEL. A value that reaches a child's stdin, argv or
 * environment must hold none: fence agents read `name=value` lines on stdin and keep
 * the last value of a name, so a newline in a BMC address (`10.0.0.1\naction=off`) would
 * turn a status read into a power-off.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Whether `value` holds a control character (newline, carriage return, NUL, escape…). */
export function hasControlChars(value: string): boolean {
  return CONTROL.test(value);
}

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?';
const HOSTNAME = new RegExp(`^(?=.{1,253}\\.?$)${LABEL}(?:\\.${LABEL})*\\.?$`);

/**
 * Whether `value` is a host name (letters, digits, `-`, `_` in dot-separated labels, not
 * starting with `-`) or an IPv4/IPv6 literal (without brackets) — what a BMC address may be.
 */
export function isHostOrIp(value: string): boolean {
  return isIP(value) !== 0 || HOSTNAME.test(value);
}

/** The rule a BMC address breaks, or undefined when it is a host name or IP literal. */
export function addressRule(value: string): string | undefined {
  return isHostOrIp(value) ? undefined : 'must be a host name or an IP address literal';
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/**
 * Variables a loader, a shell or an interpreter acts on: a password put there would
 * change what the child runs (LD_PRELOAD, BASH_ENV, NODE_OPTIONS…) or where it looks.
 */
const DANGEROUS_ENV =
  /^(?:LD_|DYLD_|PYTHON|PERL|RUBY|NODE_|BASH_|LC_|GCONV_|MALLOC_|GLIBC_|JAVA_|_JAVA_|GIT_|SSL_|OPENSSL_)|^(?:PATH|HOME|IFS|ENV|SHELL|SHELLOPTS|BASHOPTS|PS4|CDPATH|GLOBIGNORE|LANG|LANGUAGE|TZ|TMPDIR|HOSTALIASES|LOCALDOMAIN|RES_OPTIONS|NLSPATH|LOCPATH|USER|LOGNAME|TERM|PWD|OLDPWD|JDK_JAVA_OPTIONS|CLASSPATH|RUBYOPT|PERL5OPT|PERL5LIB|PERLLIB|TERMINFO|TERMCAP)$/i;

/**
 * The rule an environment variable name breaks as the carrier of a password handed to
 * a child, or undefined when it is safe: letters, digits and `_` (not starting with a
 * digit, at most 64), and none a loader, shell or interpreter acts on (`LD_*`, `PATH`,
 * `HOME`, `IFS`, `NODE_OPTIONS`, `BASH_ENV`, `ENV`, `PYTHON*`…).
 */
export function envNameRule(name: string): string | undefined {
  if (!ENV_NAME.test(name))
    return 'must be an environment variable name: letters, digits and _, not starting with a digit, at most 64';
  if (DANGEROUS_ENV.test(name))
    return 'must not be a variable a loader, shell or interpreter acts on (LD_*, PATH, HOME, IFS, NODE_OPTIONS, BASH_ENV, ENV, PYTHON*…)';
  return undefined;
}

/** Keys that name a prototype slot, not an entry: a record keyed by them loses or corrupts the entry. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Whether `key` may not be used as an id (`__proto__`, `constructor`, `prototype`). */
export function isReservedKey(key: string): boolean {
  return RESERVED_KEYS.has(key);
}

/** How many characters of a value an error may show (docs/behaviour.md#configuration). */
export const MAX_SHOWN_CHARS = 80;

/** `value` cut to {@link MAX_SHOWN_CHARS} characters (strings and arrays of strings); other values unchanged. */
export function capShown(value: unknown): unknown {
  if (typeof value === 'string')
    return value.length > MAX_SHOWN_CHARS ? `${value.slice(0, MAX_SHOWN_CHARS)}…(${value.length} chars)` : value;
  if (Array.isArray(value))
    return value.length > 10 ? [...value.slice(0, 10).map(capShown), `…(${value.length} items)`] : value.map(capShown);
  return value;
}
