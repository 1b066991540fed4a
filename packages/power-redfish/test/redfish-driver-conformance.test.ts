import { describePowerDriverConformance } from '@hafence/testkit/mocha';
import { REDFISH_VARIANTS } from '@hafence/sim';
import { simFixture } from './helpers/sim-fixture.js';

for (const variant of REDFISH_VARIANTS)
  describePowerDriverConformance(`RedfishPowerDriver vs RedfishSim (${variant})`, () => simFixture(variant));
