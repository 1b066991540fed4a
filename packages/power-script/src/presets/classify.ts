import {
  AuthError,
  DriverError,
  ProtocolError,
  UnreachableError,
  UnsupportedOperationError,
  type PowerTarget,
} from '@hafence/core';
import { redact } from '@hafence/core/internal';
import type { ProcessResult } from '../process/run-process.js';
import type { ScriptRequest } from './script-preset.js';

// Messages of ipmitool, FreeIPMI and the ClusterLabs fencing library, by meaning.
const AUTH = [
  /RAKP 2 HMAC is invalid/i,
  /RAKP \d message indicates an error : (unauthorized name|invalid (password|role|integrity)|insufficient resources)/i,
  /unauthorized name/i,
  /password (invalid|incorrect|verification)/i,
  /authentication (failed|failure|error)/i,
  /invalid (user ?name|credentials|password)/i,
  /login (failed|denied|incorrect)/i,
  /Unable to login/i,
  /access denied/i,
];
const UNREACHABLE = [
  /Get Auth Capabilities error/i,
  /Error issuing Get Channel Authentication Capabilities/i,
  /Connection timed out/i,
  /connection refused/i,
  /No route to host/i,
  /Network is unreachable/i,
  /Name or service not known/i,
  /Address lookup for .* failed/i,
  /Unable to connect/i,
  /session timeout/i,
  /Insufficient resources for session/i,
];
const UNSUPPORTED = [/Invalid command/i, /not supported/i, /Unsupported (action|command|operation)/i];

const EXCERPT_CHARS = 400;
// lines that say nothing about the failure (ipmitool -v banner, python warnings of fence agents)
const NOISE = /Loading IANA PEN Registry|DeprecationWarning|from pipes import quote|^\s*$/;

/** The last part of a child's output, one line, without the password. */
export function excerpt(result: ProcessResult, target: PowerTarget): string {
  const text = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .filter((l) => !NOISE.test(l))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  const tail = text.length > EXCERPT_CHARS ? `…${text.slice(-EXCERPT_CHARS)}` : text;
  return redact(tail, [target.password]) || '(no output)';
}

/** Maps a failed run (non-zero exit, killed) to the typed error its output points at. */
export function classifyFailure(driver: string, request: ScriptRequest, result: ProcessResult): Error {
  const { target } = request;
  const text = `${result.stderr}\n${result.stdout}`;
  const detail = excerpt(result, target);
  if (AUTH.some((re) => re.test(text))) return new AuthError(target.host, driver, detail);
  if (UNREACHABLE.some((re) => re.test(text))) return new UnreachableError(target.host, target.address, detail);
  if (UNSUPPORTED.some((re) => re.test(text)) && request.op !== 'status')
    return new UnsupportedOperationError(request.op, driver);
  const how = result.code === null ? `killed by ${result.signal ?? 'a signal'}` : `exit ${result.code}`;
  return new DriverError(driver, target.host, `${request.op}: ${how}: ${detail}`);
}

/** A successful run whose output makes no sense. */
export function garbage(request: ScriptRequest, result: ProcessResult, expected: string): ProtocolError {
  return new ProtocolError(
    request.target.host,
    `${request.op}: expected ${expected}, got: ${excerpt(result, request.target)}`,
  );
}
