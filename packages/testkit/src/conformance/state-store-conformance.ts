import { ConformanceSkip } from './provider-harness.js';
import { budgetChecks } from './state-store-budget-checks.js';
import { fenceChecks } from './state-store-fence-checks.js';
import type { StateStoreConformanceCheck, StateStoreFixtureFactory } from './state-store-fixture.js';
import { historyChecks } from './state-store-history-checks.js';
import { leaseChecks } from './state-store-lease-checks.js';
import { outboxChecks } from './state-store-outbox-checks.js';
import { recordChecks } from './state-store-record-checks.js';

/**
 * The `StateStore` and `CoordinationStore` contract as plain async checks, for any test
 * runner: compare-and-set writes, fenced writes (`LeaseLostError` once the lease is gone,
 * nothing written), the fence budget's atomic count-and-append under concurrency (and
 * across two instances when the fixture can open a peer), arm records, event paging and
 * pruning, the outbox (events written with their record, relayed by partition until marked delivered), and
 * partition leases. Each check expects a fresh, empty store.
 *
 * @example
 * for (const c of stateStoreConformanceChecks()) await runStateStoreCheck(c, makeFixture);
 */
export function stateStoreConformanceChecks(): readonly StateStoreConformanceCheck[] {
  return [...recordChecks, ...fenceChecks, ...budgetChecks, ...historyChecks, ...outboxChecks, ...leaseChecks];
}

/** How one store check went. */
export interface StateStoreCheckResult {
  readonly name: string;
  readonly status: 'passed' | 'failed' | 'skipped';
  /** The failure, or why the check was skipped. */
  readonly error?: unknown;
}

/** Runs one check on a fresh fixture, then closes the fixture (also when the check fails). */
export async function runStateStoreCheck(
  check: StateStoreConformanceCheck,
  makeFixture: StateStoreFixtureFactory,
): Promise<StateStoreCheckResult> {
  try {
    const fx = await makeFixture();
    try {
      await check.run(fx);
    } finally {
      await fx.close?.();
    }
    return { name: check.name, status: 'passed' };
  } catch (error) {
    return { name: check.name, status: error instanceof ConformanceSkip ? 'skipped' : 'failed', error };
  }
}

/**
 * Runs every store check, each on a fresh fixture, and returns the results.
 *
 * @example
 * const failed = (await runStateStoreConformance(makeFixture)).filter((r) => r.status === 'failed');
 */
export async function runStateStoreConformance(
  makeFixture: StateStoreFixtureFactory,
): Promise<StateStoreCheckResult[]> {
  const results: StateStoreCheckResult[] = [];
  for (const check of stateStoreConformanceChecks()) results.push(await runStateStoreCheck(check, makeFixture));
  return results;
}
