/**
 * `@hafence/testkit/mocha`: the conformance suites, written for mocha (`describe`/`it`
 * globals) and chai. Import this entry point only from test files; the main entry point
 * `@hafence/testkit` stays free of test frameworks.
 * @packageDocumentation
 */
export { describePowerDriverConformance } from './conformance/power-driver-conformance.js';
export type { PowerDriverFixture, ConformanceOptions } from './conformance/power-driver-conformance.js';
export { describeProviderConformance } from './conformance/provider-conformance-mocha.js';
export { describeStateStoreConformance } from './conformance/state-store-conformance-mocha.js';
