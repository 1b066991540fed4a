import { expect } from 'chai';
import { AbortedError, UnreachableError, type MemoryInventory, type ResourceSpec } from '@hafence/core';
import { KvmProvider, type AgentHealth, type HeartbeatObservation } from '@hafence/provider-kvm';
import { TestClock, flushMicrotasks } from '@hafence/testkit';
import { at } from './helpers/at.js';
import { ctxOf, FakeKvm, inventoryOf, viewOf } from './helpers/fake-ports.js';

/**
 * Issue 8 item 5: a check called with an already aborted signal (a job aborted before it
 * ran, e.g. `healthCheckTimeout: 0`) must reject with the abort reason and leave no
 * unhandled rejection behind when the port's own request fails afterwards.
 */
describe('KVM provider: checks on an aborted signal leave no unhandled rejection', () => {
  let clock: TestClock;
  let kvm: FakeKvm;
  let inventory: MemoryInventory;
  let specs: ResourceSpec[];
  let provider: KvmProvider;
  /** Fails every port request still pending, as a port that honours its signal late would. */
  let failPending: () => void;
  const leaked: unknown[] = [];
  const onUnhandled = (reason: unknown) => leaked.push(reason);

  beforeEach(() => {
    leaked.length = 0;
    process.on('unhandledRejection', onUnhandled);
    clock = new TestClock();
    kvm = new FakeKvm(clock);
    ({ inventory, specs } = inventoryOf(3));
    for (const s of specs) kvm.host(s.ref.id);
    const pending: Array<() => void> = [];
    failPending = () => {
      for (const fail of pending.splice(0)) fail();
    };
    const late = <T>(host: string) =>
      new Promise<T>((_, reject) =>
        pending.push(() => reject(new UnreachableError(host, 'agent', 'request failed after the caller gave up'))),
      );
    provider = new KvmProvider({
      agents: { health: (host) => late<AgentHealth>(host) },
      neighbors: { readHeartbeat: (checker) => late<HeartbeatObservation>(checker) },
      inventory: kvm,
      clock,
      powerState: () => 'ON',
    });
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  const abortedCtx = (reason: Error) => {
    const ctl = new AbortController();
    ctl.abort(reason);
    return ctxOf(clock, inventory, 'SUSPECT', undefined, ctl.signal);
  };
  const outcome = <T>(p: Promise<T>) =>
    p.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );

  /** Lets the late port failures settle and Node's rejection tracking report them. */
  async function lateFailuresSettled(): Promise<void> {
    failPending();
    await flushMicrotasks();
    await flushMicrotasks();
  }

  it('healthCheck with an already aborted signal rejects with the abort reason; the late port failure is handled', async () => {
    const reason = new AbortedError('health job aborted');
    expect(await outcome(provider.healthCheck(at(specs, 0), abortedCtx(reason)))).to.deep.equal({ error: reason });
    await lateFailuresSettled();
    expect(leaked).to.deep.equal([]);
  });

  it('activityCheck with an already aborted signal rejects with the abort reason; the late port failure is handled', async () => {
    await provider.partitionConditions(
      viewOf(inventory, { h1: { state: 'SUSPECT', healthy: false, inEpisode: true } }),
    ); // h2, h3 may check h1
    const reason = new AbortedError('activity job aborted');
    expect(await outcome(provider.activityCheck(at(specs, 0), abortedCtx(reason)))).to.deep.equal({ error: reason });
    await lateFailuresSettled();
    expect(leaked).to.deep.equal([]);
  });

  it('a 0 ms job timeout on the clock (aborted while the request runs): the abort reason, nothing unhandled', async () => {
    const ctl = new AbortController();
    const reason = new AbortedError('health check exceeded 0 ms');
    clock.setTimeout(() => ctl.abort(reason), 0);
    const result = outcome(
      provider.healthCheck(at(specs, 0), ctxOf(clock, inventory, 'SUSPECT', undefined, ctl.signal)),
    );
    await clock.advance(0);
    expect(await result).to.deep.equal({ error: reason });
    await lateFailuresSettled();
    expect(leaked).to.deep.equal([]);
  });
});
