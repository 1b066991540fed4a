import { flushMicrotasks } from '../time/test-clock.js';
import { providerConformanceChecks, type ProviderConformanceCheck } from './provider-checks.js';
import type { ProviderConformanceOptions, ProviderFixtureFactory } from './provider-fixture.js';
import { ConformanceFailure, ConformanceSkip, show } from './provider-harness.js';

/** How one check went. */
export interface ProviderCheckResult {
  readonly name: string;
  readonly status: 'passed' | 'failed' | 'skipped';
  /** The failure, or why the check was skipped. */
  readonly error?: unknown;
}

/**
 * Runs one check on a fresh fixture, then closes it. Any rejection left unhandled
 * while it ran (a provider's forgotten promise) fails the check.
 */
export async function runProviderCheck(
  check: ProviderConformanceCheck,
  makeFixture: ProviderFixtureFactory,
): Promise<ProviderCheckResult> {
  const leaked: unknown[] = [];
  const onLeak = (reason: unknown) => void leaked.push(reason);
  process.on('unhandledRejection', onLeak);
  let result: ProviderCheckResult;
  try {
    const fx = await makeFixture();
    try {
      await check.run(fx);
      result = { name: check.name, status: 'passed' };
    } finally {
      await fx.close?.();
    }
  } catch (error) {
    result = { name: check.name, status: error instanceof ConformanceSkip ? 'skipped' : 'failed', error };
  }
  try {
    await flushMicrotasks();
    await flushMicrotasks();
  } finally {
    process.off('unhandledRejection', onLeak);
  }
  if (leaked.length > 0 && result.status !== 'failed') {
    return {
      name: check.name,
      status: 'failed',
      error: new ConformanceFailure(`unhandled rejection: ${show(leaked[0])}`),
    };
  }
  return result;
}

/**
 * Runs every provider conformance check, each on a fresh fixture, and returns the
 * results: for a runner other than mocha, or a script.
 *
 * @example
 * const failed = (await runProviderConformance(makeFixture)).filter((r) => r.status === 'failed');
 */
export async function runProviderConformance(
  makeFixture: ProviderFixtureFactory,
  options: ProviderConformanceOptions = {},
): Promise<ProviderCheckResult[]> {
  const results: ProviderCheckResult[] = [];
  for (const check of providerConformanceChecks(options)) results.push(await runProviderCheck(check, makeFixture));
  return results;
}
