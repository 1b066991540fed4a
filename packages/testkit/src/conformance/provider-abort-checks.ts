import type { FenceResult, RecoverResult } from '@hafence/core';
import { invoke, PROVIDER_METHODS, STATE_OF, type ProviderMethod } from './provider-calls.js';
import type { ProviderConformanceCheck } from './provider-checks.js';
import type { ProviderFixture } from './provider-fixture.js';
import {
  abortCall,
  assertSettled,
  assertTypedRejection,
  callSetup,
  check,
  ConformanceSkip,
  drive,
  show,
  type CallSetup,
  type ConformanceBudgets,
  type Settled,
} from './provider-harness.js';

/** How long a call runs before the mid-call abort (virtual or real ms). */
const RUN_BEFORE_ABORT_MS = 10;

/** An aborted recover or fence may fail or reject, but never claim a success its chassis did not prove. */
function assertNoUnprovenSuccess(
  method: ProviderMethod,
  s: Exclude<Settled<unknown>, { pending: true }>,
  setup: CallSetup,
): void {
  if (!('value' in s) || setup.power.offVerified) return;
  if (method === 'recover')
    check(!(s.value as RecoverResult).ok, `aborted recover answered ${show(s.value)} without a verified OFF`);
  if (method === 'fence')
    check((s.value as FenceResult).outcome !== 'off', `aborted fence answered ${show(s.value)} without a verified OFF`);
}

function started(fx: ProviderFixture, method: ProviderMethod, setup: CallSetup): Promise<unknown> {
  const call = invoke(fx, method, setup.ctx);
  if (!call) throw new ConformanceSkip(`the provider has no ${method}`);
  return call;
}

function settledOf(method: ProviderMethod, s: Settled<unknown>, setup: CallSetup, when: string): void {
  assertSettled(s, `${method} ${when}`);
  if ('error' in s) assertTypedRejection(s.error, setup.ctx.signal, method);
  assertNoUnprovenSuccess(method, s, setup);
}

const alreadyAborted = (b: ConformanceBudgets, method: ProviderMethod): ProviderConformanceCheck => ({
  name: `${method} called with an already aborted signal settles promptly`,
  run: async (fx) => {
    const setup = callSetup(fx, b, STATE_OF[method]);
    abortCall(setup, 'aborted before the call');
    settledOf(method, await drive(fx, started(fx, method, setup), b.abortBudgetMs), setup, 'with an aborted signal');
  },
});

const abortedMidCall = (b: ConformanceBudgets, method: ProviderMethod): ProviderConformanceCheck => ({
  name: `${method} aborted mid-call settles promptly (its I/O and the controller hanging)`,
  run: async (fx) => {
    await fx.hangChecks?.();
    const setup = callSetup(fx, b, STATE_OF[method], 'hanging');
    const call = started(fx, method, setup);
    const early = await drive(fx, call, RUN_BEFORE_ABORT_MS);
    if (!('pending' in early)) return settledOf(method, early, setup, 'before its abort');
    abortCall(setup, 'aborted mid-call');
    settledOf(method, await drive(fx, call, b.abortBudgetMs), setup, 'after its signal aborted');
  },
});

/** Every method, called with an aborted signal and aborted mid-call, settles within the abort budget. */
export function abortChecks(b: ConformanceBudgets): ProviderConformanceCheck[] {
  return PROVIDER_METHODS.flatMap((method) => [alreadyAborted(b, method), abortedMidCall(b, method)]);
}
