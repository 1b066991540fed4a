import { expect } from 'chai';
import type { MemoryInventory, ResourceSpec } from '@hafence/core';
import { KvmProvider } from '@hafence/provider-kvm';
import { TestClock } from '@hafence/testkit';
import { at } from './helpers/at.js';
import { ctxOf, FakeKvm, FakePower, inventoryOf } from './helpers/fake-ports.js';

const S = 1_000;

describe('KVM provider: recovery and fencing by verified power', () => {
  let clock: TestClock;
  let inventory: MemoryInventory;
  let specs: ResourceSpec[];
  let provider: KvmProvider;
  let power: FakePower;

  beforeEach(() => {
    clock = new TestClock();
    const kvm = new FakeKvm(clock);
    ({ inventory, specs } = inventoryOf(2));
    provider = new KvmProvider({ agents: kvm, neighbors: kvm, inventory: kvm, clock });
    power = new FakePower();
  });

  async function run<T>(p: Promise<T>): Promise<T> {
    await clock.advance(120 * S);
    return p;
  }

  it('recover: refresh power, verify ON, off → poll until OFF → on (never a bare cycle)', async () => {
    power.offAfterReads = 3;
    const r = await run(provider.recover(at(specs, 0), ctxOf(clock, inventory, 'RECOVERING', power)));
    expect(r.ok).to.equal(true);
    expect(power.calls).to.deep.equal(['status', 'off', 'status', 'status', 'status', 'on']);
  });

  it('recover fails when power is not ON first, or does not read OFF within powerOffVerifyTimeout', async () => {
    power.power = 'OFF';
    expect((await run(provider.recover(at(specs, 0), ctxOf(clock, inventory, 'RECOVERING', power)))).ok).to.equal(
      false,
    );
    const stuck = new FakePower();
    stuck.offAfterReads = Infinity;
    const r = await run(provider.recover(at(specs, 0), ctxOf(clock, inventory, 'RECOVERING', stuck)));
    expect(r).to.deep.include({ ok: false });
    expect(stuck.calls).to.not.include('on');
  });

  it('fence: already OFF on the first read is success without a stop command', async () => {
    power.power = 'OFF';
    expect((await run(provider.fence(at(specs, 0), ctxOf(clock, inventory, 'FENCING', power)))).outcome).to.equal(
      'off',
    );
    expect(power.calls).to.deep.equal(['status']);
  });

  it('fence: off, then verified OFF by polling; a verify timeout is a failure, never success', async () => {
    expect((await run(provider.fence(at(specs, 0), ctxOf(clock, inventory, 'FENCING', power)))).outcome).to.equal(
      'off',
    );
    const stuck = new FakePower();
    stuck.offAfterReads = Infinity;
    const started = clock.now();
    const r = run(provider.fence(at(specs, 0), ctxOf(clock, inventory, 'FENCING', stuck)));
    expect((await r).outcome).to.equal('failed');
    expect(stuck.calls.filter((c) => c === 'status').length).to.be.within(20, 22);
    expect(clock.now() - started).to.be.at.least(20 * S);
  });

  it('fence: an unreachable controller answers "unreachable" (the engine turns to the lease)', async () => {
    power.unreachable = true;
    expect((await run(provider.fence(at(specs, 0), ctxOf(clock, inventory, 'FENCING', power)))).outcome).to.equal(
      'unreachable',
    );
    expect((await run(provider.fence(at(specs, 0), ctxOf(clock, inventory, 'FENCING')))).outcome).to.equal(
      'unreachable',
    );
  });
});
