import { UnsupportedOperationError, type ChassisCommand } from '@hafence/core';

/** The `ResetType`s each command may use, in order of preference (never another one). */
export const RESET_TYPES: Readonly<Record<ChassisCommand, readonly string[]>> = {
  off: ['ForceOff'],
  soft: ['GracefulShutdown'],
  on: ['On', 'ForceOn'],
  reset: ['ForceRestart'],
  cycle: ['PowerCycle'],
};

/**
 * The `ResetType` for `command` among the values the system offers. Nothing is assumed:
 * when the system does not offer one of {@link RESET_TYPES}, the error is an
 * {@link UnsupportedOperationError} naming the command, the `ResetType`s wanted and the
 * ones offered.
 */
export function chooseResetType(command: ChassisCommand, allowable: readonly string[]): string {
  const wanted = RESET_TYPES[command];
  const found = wanted.find((t) => allowable.includes(t));
  if (found) return found;
  const offered = allowable.length > 0 ? allowable.slice(0, 16).join(', ') : 'none';
  throw new UnsupportedOperationError(
    `${command} (ResetType ${wanted.join(' or ')} is not offered by the system; it offers ${offered})`,
    'redfish',
  );
}
