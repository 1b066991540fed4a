import { TestClock, type ProviderFixture } from '@hafence/testkit';
import { describeProviderConformance } from '@hafence/testkit/mocha';
import { HttpServiceProvider } from '../src/index.js';
import { FakeHttpService } from './fake-http-service.js';

/** One instance, api-1, in partition c1, on virtual time. */
function fixture(): ProviderFixture {
  const clock = new TestClock();
  const service = new FakeHttpService();
  const provider = new HttpServiceProvider({ baseUrl: (id) => `http://${id}`, fetch: service.fetch });
  const api1 = service.instance('api-1');
  return {
    provider,
    clock,
    resource: { ref: { type: 'http-service', id: 'api-1' }, partition: 'c1' },
    advance: (ms) => clock.advance(ms),
    makeActivityUndecidable: () => void (api1.metricsBroken = true),
    breakHealth: () => void (api1.unhealthy = true),
    hangChecks: () => void (api1.hanging = true),
  };
}

describeProviderConformance('HttpServiceProvider', fixture);
