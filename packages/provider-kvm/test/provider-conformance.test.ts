import { KvmProvider } from '@hafence/provider-kvm';
import { TestClock, type ProviderFixture } from '@hafence/testkit';
import { describeProviderConformance } from '@hafence/testkit/mocha';
import { at } from './helpers/at.js';
import { FakeKvm, inventoryOf } from './helpers/fake-ports.js';

/** The KVM provider over the fake ports: h1 is the resource, h2 and h3 its checkers and peers. */
function kvmFixture(): ProviderFixture {
  const clock = new TestClock();
  const kvm = new FakeKvm(clock);
  const { inventory, specs } = inventoryOf(3);
  for (const s of specs) kvm.host(s.ref.id);
  const provider = new KvmProvider({
    agents: kvm,
    neighbors: kvm,
    inventory: kvm,
    volumes: kvm,
    clock,
    powerState: () => 'ON',
  });
  return {
    provider,
    clock,
    inventory,
    resource: at(specs, 0),
    advance: (ms) => clock.advance(ms),
    makeActivityUndecidable: () => {
      for (const s of specs.slice(1)) kvm.host(s.ref.id).reads = 'mount-unreadable';
    },
    breakHealth: () => void (kvm.host('h1').agentUp = false),
    hangChecks: () => {
      for (const s of specs.slice(1)) kvm.host(s.ref.id).reads = 'hang';
    },
  };
}

describeProviderConformance('KvmProvider', kvmFixture);
