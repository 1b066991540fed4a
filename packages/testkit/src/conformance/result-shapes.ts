import { check, show } from './provider-harness.js';
import type { ProviderMethod } from './provider-calls.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const optionalString = (v: Record<string, unknown>, key: string) => v[key] === undefined || typeof v[key] === 'string';

/** Throws unless `value` has the documented shape of `method`'s result. */
export function assertShape(method: ProviderMethod, value: unknown): void {
  const bad = `${method} answered ${show(value)}, which is not its documented shape`;
  if (method === 'isInMaintenance') return check(typeof value === 'boolean', bad);
  check(isObject(value) && optionalString(value, 'reason'), bad);
  switch (method) {
    case 'isEligible':
    case 'partitionConditions':
    case 'recover':
      return check(typeof value.ok === 'boolean', bad);
    case 'healthCheck':
      return check(typeof value.healthy === 'boolean', bad);
    case 'activityCheck':
      return check(['active', 'inactive', 'error'].includes(value.verdict as string), bad);
    case 'fence':
      return check(['off', 'unreachable', 'failed'].includes(value.outcome as string), bad);
    case 'selfFenceLease':
      return check(leaseShaped(value), bad);
  }
}

function leaseShaped(v: Record<string, unknown>): boolean {
  if (v.state === 'none') return typeof v.reason === 'string';
  if (v.state === 'pending') return typeof v.deadline === 'number' && Number.isFinite(v.deadline);
  return v.state === 'expired' && typeof v.evidence === 'string' && v.evidence !== '';
}
