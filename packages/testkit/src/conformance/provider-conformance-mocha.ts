import { providerConformanceChecks } from './provider-checks.js';
import type { ProviderConformanceOptions, ProviderFixtureFactory } from './provider-fixture.js';
import { runProviderCheck } from './run-provider-conformance.js';

/**
 * The provider conformance checks as a mocha suite (uses mocha's globals, imports
 * nothing from mocha or chai): one `it` per check, skipped when the fixture lacks the
 * hook it needs.
 *
 * @example
 * describeProviderConformance('my-provider', () => ({
 *   provider, resource, clock, advance: (ms) => clock.advance(ms), makeActivityUndecidable,
 * }));
 */
export function describeProviderConformance(
  name: string,
  makeFixture: ProviderFixtureFactory,
  options: ProviderConformanceOptions = {},
): void {
  describe(`HAProvider conformance: ${name}`, function () {
    for (const check of providerConformanceChecks(options)) {
      it(check.name, async function () {
        const result = await runProviderCheck(check, makeFixture);
        if (result.status === 'skipped') this.skip();
        if (result.status === 'failed') throw result.error;
      });
    }
  });
}
