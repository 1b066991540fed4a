import { describePowerDriverConformance } from '@hafence/testkit/mocha';
import { simFixture } from './helpers/sim-fixture.js';

describePowerDriverConformance('IpmiPowerDriver vs SimBmc, cipher suite 17', () => simFixture(17));
describePowerDriverConformance('IpmiPowerDriver vs SimBmc, cipher suite 3', () => simFixture(3));
