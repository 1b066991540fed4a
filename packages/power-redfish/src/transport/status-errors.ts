import { AuthError, ProtocolError, UnsupportedOperationError, type HaError } from '@hafence/core';
import { describeErrorInfo, readErrorInfo } from '../protocol/extended-info.js';
import type { JsonObject } from '../protocol/redfish-json.js';

const UNSUPPORTED_IDS = /\.(ActionNotSupported|ActionParameterNotSupported|ActionParameterValueNotInList)$/;

/**
 * The typed error of a refused request (`@Message.ExtendedInfo` read for the detail):
 * 401 and 403 → `AuthError`; a 400 whose message says the action or its value is not
 * supported → `UnsupportedOperationError`; 5xx and every other status → `ProtocolError`.
 */
export function statusError(host: string, what: string, status: number, doc: JsonObject | undefined): HaError {
  const info = readErrorInfo(doc);
  const detail = `${what}: HTTP ${status} (${describeErrorInfo(info, 'no message')})`;
  if (status === 401 || status === 403) return new AuthError(host, 'redfish', detail);
  if (status === 400 && info.messageIds.some((id) => UNSUPPORTED_IDS.test(id)))
    return new UnsupportedOperationError(detail, 'redfish');
  return new ProtocolError(host, detail);
}
