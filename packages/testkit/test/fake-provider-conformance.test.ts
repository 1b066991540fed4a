import { expect } from 'chai';
import type { HAProvider, HealthResult, ResourceSpec } from '@hafence/core';
import {
  FakeProvider,
  providerConformanceChecks,
  runProviderConformance,
  TestClock,
  type ProviderFixture,
} from '@hafence/testkit';
import { describeProviderConformance } from '@hafence/testkit/mocha';

const resource: ResourceSpec = { ref: { type: 'host', id: 'h1' }, partition: 'c1' };

function fakeFixture(): ProviderFixture {
  const clock = new TestClock();
  const provider = new FakeProvider({ clock });
  return {
    provider,
    resource,
    clock,
    advance: (ms) => clock.advance(ms),
    makeActivityUndecidable: () => void (provider.host('h1').activity = 'error'),
    breakHealth: () => void (provider.host('h1').crashed = true),
    hangChecks: () => {
      const h = provider.host('h1');
      h.health = 'hang';
      h.activity = 'hang';
    },
  };
}

describeProviderConformance('FakeProvider', fakeFixture);

/** A provider that breaks one rule each, to prove the suite can fail. */
function broken(patch: Partial<HAProvider>): () => ProviderFixture {
  return () => {
    const fx = fakeFixture();
    return { ...fx, provider: Object.assign(Object.create(fx.provider) as HAProvider, patch) };
  };
}

describe('provider conformance: the checks fail providers that break the contract', () => {
  const failedNames = async (make: () => ProviderFixture) =>
    (await runProviderConformance(make)).filter((r) => r.status === 'failed').map((r) => r.name);

  it('a fence that trusts the off acknowledgement fails the lying-controller check', async () => {
    const failed = await failedNames(
      broken({ fence: async (_r, ctx) => (await ctx.power!.off(), { outcome: 'off' }) }),
    );
    expect(failed).to.include('fence never reports off when the controller acknowledges off but the chassis stays ON');
    expect(failed).to.include('fence of a chassis already OFF succeeds without a stop command');
  });

  it('an activity check that answers inactive when it cannot tell fails', async () => {
    const failed = await failedNames(broken({ activityCheck: async () => ({ verdict: 'inactive' }) }));
    expect(failed).to.include('an activity check that cannot tell answers error, never inactive');
  });

  it('a health check that ignores its signal fails the abort checks', async () => {
    const clockless = broken({ healthCheck: () => new Promise<HealthResult>(() => undefined) });
    const failed = await failedNames(clockless);
    expect(failed).to.include('healthCheck called with an already aborted signal settles promptly');
    expect(failed).to.include('healthCheck aborted mid-call settles promptly (its I/O and the controller hanging)');
  });

  // A floating rejection is not provoked here: mocha runs with --unhandled-rejections=strict,
  // which turns it into an uncaught exception that fails the running test by itself.
  it('an untyped rejection fails', async () => {
    const failed = await failedNames(
      broken({
        isInMaintenance: async () => {
          throw new Error('untyped');
        },
      }),
    );
    expect(failed).to.include('isInMaintenance answers its documented shape for a healthy resource');
  });

  it('exports the checks as plain { name, run } objects with unique names', () => {
    const names = providerConformanceChecks().map((c) => c.name);
    expect(new Set(names).size).to.equal(names.length);
    expect(names.length).to.be.greaterThan(20);
  });
});
