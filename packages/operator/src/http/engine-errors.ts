import { InvalidRequestError, LeaseLostError, NotFoundError, NotOwnerError } from '@hafence/core';
import { ApiError } from './respond.js';

/**
 * The answer of an error an engine call threw: unknown resource or partition → 404, a
 * request that contradicts the state or a partition this server does not own → 409.
 * Undefined for anything else (a 500).
 */
export function apiErrorOf(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err instanceof NotFoundError) return new ApiError(404, 'not-found', `unknown ${err.what} '${err.id}'`);
  if (err instanceof InvalidRequestError || err instanceof LeaseLostError || err instanceof NotOwnerError)
    return new ApiError(409, 'conflict', err.message);
  return undefined;
}
