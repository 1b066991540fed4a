import type { FenceResult, RecoverResult } from '@hafence/core';
import type { ConformancePowerMode } from './conformance-power.js';
import { invoke, PROVIDER_METHODS, STATE_OF, type ProviderMethod } from './provider-calls.js';
import type { ProviderConformanceOptions, ProviderFixture } from './provider-fixture.js';
import {
  assertSettled,
  assertTypedRejection,
  budgetsOf,
  callSetup,
  check,
  ConformanceSkip,
  drive,
  show,
  type CallSetup,
  type ConformanceBudgets,
} from './provider-harness.js';
import { assertShape } from './result-shapes.js';
import { abortChecks } from './provider-abort-checks.js';

/**
 * One check of the provider contract, usable with any test runner: `run` resolves when
 * the provider conforms, throws `ConformanceFailure` when it does not, and
 * `ConformanceSkip` when the fixture lacks a hook the check needs.
 */
export interface ProviderConformanceCheck {
  readonly name: string;
  run(fixture: ProviderFixture): Promise<void>;
}

/** How one call ended: resolved with `value`, or rejected with a typed `error`. */
export type CallOutcome =
  | { readonly value: unknown; readonly setup: CallSetup }
  | { readonly error: unknown; readonly setup: CallSetup };

/** Calls `method` once with a chassis in `mode`; it must settle within the call budget, typed and well shaped. */
export async function callOnce(
  fx: ProviderFixture,
  b: ConformanceBudgets,
  method: ProviderMethod,
  mode: ConformancePowerMode | 'none' = 'working',
): Promise<CallOutcome> {
  const setup = callSetup(fx, b, STATE_OF[method], mode);
  const call = invoke(fx, method, setup.ctx);
  if (!call) throw new ConformanceSkip(`the provider has no ${method}`);
  const s = await drive(fx, call, b.callBudgetMs);
  assertSettled(s, method);
  if ('error' in s) {
    assertTypedRejection(s.error, setup.ctx.signal, method);
    return { error: s.error, setup };
  }
  assertShape(method, s.value);
  return { value: s.value, setup };
}

/** Calls `method` once; it must resolve (not reject). */
async function answer<T>(
  fx: ProviderFixture,
  b: ConformanceBudgets,
  method: ProviderMethod,
  mode: ConformancePowerMode | 'none' = 'working',
): Promise<{ value: T; setup: CallSetup }> {
  const o = await callOnce(fx, b, method, mode);
  if ('error' in o) check(false, `${method} rejected (${show(o.error)}) where an answer was expected`);
  return o as { value: T; setup: CallSetup };
}

const shapeChecks = (b: ConformanceBudgets): ProviderConformanceCheck[] =>
  PROVIDER_METHODS.map((method) => ({
    name: `${method} answers its documented shape for a healthy resource`,
    run: async (fx) => void (await answer(fx, b, method)),
  }));

const healthChecks = (b: ConformanceBudgets): ProviderConformanceCheck[] => [
  {
    name: 'names a resource type and a partition kind',
    run: async (fx) => {
      check(typeof fx.provider.resourceType === 'string' && fx.provider.resourceType !== '', 'resourceType is empty');
      check(
        typeof fx.provider.partitionKind === 'string' && (fx.provider.partitionKind as string) !== '',
        'partitionKind is empty',
      );
    },
  },
  {
    name: 'a healthy, eligible resource passes isEligible and healthCheck',
    run: async (fx) => {
      const eligible = await answer<{ ok: boolean; reason?: string }>(fx, b, 'isEligible');
      check(eligible.value.ok, `isEligible said no: ${eligible.value.reason ?? ''}`);
      const health = await answer<{ healthy: boolean; reason?: string }>(fx, b, 'healthCheck');
      check(health.value.healthy, `healthCheck failed a healthy resource: ${health.value.reason ?? ''}`);
    },
  },
  {
    name: 'a broken resource fails healthCheck',
    run: async (fx) => {
      if (!fx.breakHealth) throw new ConformanceSkip('the fixture has no breakHealth');
      await fx.breakHealth();
      const health = await callOnce(fx, b, 'healthCheck');
      check(
        !('value' in health) || (health.value as { healthy: boolean }).healthy === false,
        'healthCheck passed a broken resource',
      );
    },
  },
  {
    name: 'an activity check that cannot tell answers error, never inactive',
    run: async (fx) => {
      await fx.makeActivityUndecidable();
      const o = await callOnce(fx, b, 'activityCheck');
      if ('value' in o)
        check(
          (o.value as { verdict: string }).verdict === 'error',
          `activityCheck answered ${show(o.value)} when it could not observe`,
        );
    },
  },
];

const notRecovered = (o: CallOutcome) => 'error' in o || (o.value as RecoverResult).ok === false;
const outcomeOf = (o: CallOutcome) => ('error' in o ? 'rejected' : (o.value as FenceResult).outcome);

const powerChecks = (b: ConformanceBudgets): ProviderConformanceCheck[] => [
  {
    name: 'recover with a working controller succeeds, after power read back OFF',
    run: async (fx) => {
      const o = await answer<RecoverResult>(fx, b, 'recover');
      check(o.value.ok, `recover failed with a working controller: ${o.value.reason ?? ''}`);
      check(
        o.setup.power.offVerified,
        `recover succeeded without reading power OFF after its stop command (calls: ${o.setup.power.calls.join(', ')})`,
      );
    },
  },
  {
    name: 'recover never succeeds when the controller acknowledges off but the chassis stays ON',
    run: async (fx) => {
      const o = await callOnce(fx, b, 'recover', 'lying');
      check(
        notRecovered(o),
        `recover reported success on a chassis that never read OFF (calls: ${o.setup.power.calls.join(', ')})`,
      );
    },
  },
  {
    name: 'recover with an unreachable controller is a failure, never success',
    run: async (fx) =>
      check(
        notRecovered(await callOnce(fx, b, 'recover', 'unreachable')),
        'recover succeeded without reaching the controller',
      ),
  },
  {
    name: 'fence reports off only after power read back OFF',
    run: async (fx) => {
      const o = await answer<FenceResult>(fx, b, 'fence');
      check(o.value.outcome === 'off', `fence with a working controller answered ${o.value.outcome}`);
      check(
        o.setup.power.offVerified,
        `fence answered off without a status read of OFF (calls: ${o.setup.power.calls.join(', ')})`,
      );
    },
  },
  {
    name: 'fence never reports off when the controller acknowledges off but the chassis stays ON',
    run: async (fx) => {
      const o = await callOnce(fx, b, 'fence', 'lying');
      check(
        outcomeOf(o) !== 'off',
        `fence answered off on a chassis that never read OFF (calls: ${o.setup.power.calls.join(', ')})`,
      );
    },
  },
  {
    name: 'fence of a chassis already OFF succeeds without a stop command',
    run: async (fx) => {
      const o = await answer<FenceResult>(fx, b, 'fence', 'already-off');
      check(o.value.outcome === 'off', `fence of an OFF chassis answered ${o.value.outcome}`);
      check(
        o.setup.power.stopCommands === 0,
        `fence sent a stop command to an OFF chassis (calls: ${o.setup.power.calls.join(', ')})`,
      );
    },
  },
  {
    name: 'fence reports an unreachable controller as unreachable',
    run: async (fx) => {
      const o = await callOnce(fx, b, 'fence', 'unreachable');
      check(outcomeOf(o) === 'unreachable', `fence with an unreachable controller answered ${outcomeOf(o)}`);
    },
  },
  {
    name: 'fence without power control never reports off',
    run: async (fx) =>
      check(outcomeOf(await callOnce(fx, b, 'fence', 'none')) !== 'off', 'fence answered off with no power control'),
  },
];

/**
 * The provider contract as plain async checks, for any test runner: result shapes,
 * health and activity (`error`, never `inactive`, when the check cannot tell),
 * recover and fence resting only on a verified OFF (a lying controller, an OFF
 * chassis, an unreachable one), prompt settling on an aborted signal, typed rejections.
 * {@link runProviderCheck} adds the unhandled-rejection watch and the fixture's lifecycle.
 *
 * @example
 * for (const c of providerConformanceChecks()) await runProviderCheck(c, makeFixture);
 */
export function providerConformanceChecks(
  options: ProviderConformanceOptions = {},
): readonly ProviderConformanceCheck[] {
  const b = budgetsOf(options);
  return [...healthChecks(b), ...shapeChecks(b), ...powerChecks(b), ...abortChecks(b)];
}
