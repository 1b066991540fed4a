import { runStateStoreCheck, stateStoreConformanceChecks } from './state-store-conformance.js';
import type { StateStoreFixtureFactory } from './state-store-fixture.js';

/**
 * The state-store conformance checks as a mocha suite (mocha's globals; imports nothing
 * from mocha or chai): one `it` per check, each on a fresh fixture, skipped when the
 * fixture lacks the hook it needs (`openPeer`).
 *
 * @example
 * describeStateStoreConformance('sqlite', async () => {
 *   const store = await createSqliteStore({ path: join(tmp, `${n++}.db`) });
 *   return { store, close: () => store.close() };
 * });
 */
export function describeStateStoreConformance(name: string, makeFixture: StateStoreFixtureFactory): void {
  describe(`StateStore conformance: ${name}`, function () {
    for (const check of stateStoreConformanceChecks()) {
      it(check.name, async function () {
        const result = await runStateStoreCheck(check, makeFixture);
        if (result.status === 'skipped') this.skip();
        if (result.status === 'failed') throw result.error;
      });
    }
  });
}
