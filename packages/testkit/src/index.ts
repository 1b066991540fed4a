/**
 * `@hafence/testkit`: test helpers for hafence — virtual time ({@link TestClock}), a fake
 * power driver, a fake provider and a fake cluster. This entry point imports no test
 * framework (no chai, mocha or fast-check), so a production package may depend on it.
 * Suites that need mocha and chai (the conformance suites) live at `@hafence/testkit/mocha`.
 * @packageDocumentation
 */
export { TestClock, flushMicrotasks } from './time/test-clock.js';
export type { TestClockOptions } from './time/test-clock.js';
export type { TestClockJitterOptions } from './time/timer-jitter.js';
export { TestClockOptionsError } from './time/test-clock-error.js';
export { TEST_CLOCK_ENV, parseTestClockMode, testClockFromEnv } from './time/test-clock-from-env.js';
export { FakePowerDriver } from './power/fake-power-driver.js';
export type { FakePowerDriverOptions, FakeChassis, FakeBmcFault } from './power/fake-power-driver.js';
export { FakeProvider } from './provider/fake-provider.js';
export type { FakeProviderOptions, FakeHost, FakeCall, Scripted } from './provider/fake-provider.js';
export { createFakeCluster } from './cluster/fake-cluster.js';
export type { FakeClusterOptions, FakeCluster } from './cluster/fake-cluster.js';
export { singleClusterTargets } from './cluster/single-cluster-targets.js';
// Provider conformance as plain async checks, runnable with any test runner (no chai or mocha import).
export { providerConformanceChecks } from './conformance/provider-checks.js';
export type { ProviderConformanceCheck } from './conformance/provider-checks.js';
export { runProviderConformance, runProviderCheck } from './conformance/run-provider-conformance.js';
export type { ProviderCheckResult } from './conformance/run-provider-conformance.js';
export type {
  ProviderFixture,
  ProviderFixtureFactory,
  ProviderConformanceOptions,
} from './conformance/provider-fixture.js';
export { ConformancePower } from './conformance/conformance-power.js';
export type { ConformancePowerMode } from './conformance/conformance-power.js';
export { ConformanceFailure, ConformanceSkip } from './conformance/provider-harness.js';
// StateStore conformance as plain async checks (no chai or mocha import).
export {
  stateStoreConformanceChecks,
  runStateStoreCheck,
  runStateStoreConformance,
} from './conformance/state-store-conformance.js';
export type { StateStoreCheckResult } from './conformance/state-store-conformance.js';
export type {
  ConformanceStore,
  StateStoreFixture,
  StateStoreFixtureFactory,
  StateStoreConformanceCheck,
} from './conformance/state-store-fixture.js';
export { makeTestPki } from './tls/test-pki.js';
export type { TestPki } from './tls/test-pki.js';
