export { TestClock, flushMicrotasks } from './time/test-clock.js';
export { FakePowerDriver } from './power/fake-power-driver.js';
export type { FakePowerDriverOptions, FakeChassis, FakeBmcFault } from './power/fake-power-driver.js';
export { FakeProvider } from './provider/fake-provider.js';
export type { FakeProviderOptions, FakeHost, FakeCall, Scripted } from './provider/fake-provider.js';
export { createFakeCluster } from './cluster/fake-cluster.js';
export type { FakeClusterOptions, FakeCluster } from './cluster/fake-cluster.js';
export { describePowerDriverConformance } from './conformance/power-driver-conformance.js';
export type { PowerDriverFixture, ConformanceOptions } from './conformance/power-driver-conformance.js';
