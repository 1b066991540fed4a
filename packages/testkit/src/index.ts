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
