export { TestClock, flushMicrotasks } from './time/test-clock.js';
export { FakePowerDriver } from './power/fake-power-driver.js';
export type { FakePowerDriverOptions, FakeChassis, FakeBmcFault } from './power/fake-power-driver.js';
export { describePowerDriverConformance } from './conformance/power-driver-conformance.js';
export type { PowerDriverFixture, ConformanceOptions } from './conformance/power-driver-conformance.js';
