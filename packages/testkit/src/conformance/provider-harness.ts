import {
  AbortedError,
  abortReason,
  DEFAULT_SETTINGS,
  delay,
  HaError,
  MemoryInventory,
  noopLogger,
  type ProviderContext,
  type ResourceState,
} from '@hafence/core';
import { flushMicrotasks } from '../time/test-clock.js';
import { ConformancePower, type ConformancePowerMode } from './conformance-power.js';
import type { ProviderConformanceOptions, ProviderFixture } from './provider-fixture.js';

/** How a call ended within its budget, or `pending` when it did not. */
export type Settled<T> = { readonly value: T } | { readonly error: unknown } | { readonly pending: true };

/** Defaults of {@link ProviderConformanceOptions}. */
export interface ConformanceBudgets {
  readonly callBudgetMs: number;
  readonly abortBudgetMs: number;
  readonly powerOffVerifyTimeoutMs: number;
}

/** The options with their defaults. */
export function budgetsOf(options: ProviderConformanceOptions = {}): ConformanceBudgets {
  return {
    callBudgetMs: options.callBudgetMs ?? 120_000,
    abortBudgetMs: options.abortBudgetMs ?? 1_000,
    powerOffVerifyTimeoutMs: options.powerOffVerifyTimeoutMs ?? 10_000,
  };
}

/** One call's context, its abort controller and the chassis behind `ctx.power`. */
export interface CallSetup {
  readonly ctx: ProviderContext;
  readonly abort: AbortController;
  readonly power: ConformancePower;
}

/** Builds a context for one call in `state`, with a chassis in `mode` (no `ctx.power` when `mode` is `none`). */
export function callSetup(
  fx: ProviderFixture,
  budgets: ConformanceBudgets,
  state: ResourceState,
  mode: ConformancePowerMode | 'none' = 'working',
): CallSetup {
  const abort = new AbortController();
  const power = new ConformancePower(mode === 'none' ? 'working' : mode, abort.signal);
  const ctx: ProviderContext = {
    signal: abort.signal,
    clock: fx.clock,
    logger: noopLogger,
    inventory: fx.inventory ?? new MemoryInventory(),
    state,
    settings: { ...DEFAULT_SETTINGS, ...fx.settings, powerOffVerifyTimeout: budgets.powerOffVerifyTimeoutMs },
    sleep: (ms) => delay(fx.clock, ms, abort.signal),
    ...(mode === 'none' ? {} : { power }),
  };
  return { ctx, abort, power };
}

/** Aborts a call's signal with the suite's typed reason. */
export function abortCall(setup: CallSetup, why: string): void {
  setup.abort.abort(new AbortedError(`conformance: ${why}`));
}

/**
 * Lets `call` run for up to `budgetMs` (advancing the fixture's virtual time, or
 * waiting on its clock) and reports how it settled. The call is always observed, so a
 * late rejection is never unhandled.
 */
export async function drive<T>(fx: ProviderFixture, call: Promise<T>, budgetMs: number): Promise<Settled<T>> {
  let result: Settled<T> | undefined;
  const observed = call.then(
    (value) => void (result = { value }),
    (error: unknown) => void (result = { error }),
  );
  if (fx.advance) {
    const step = Math.max(1, Math.floor(budgetMs / 100));
    await flushMicrotasks();
    for (let spent = 0; result === undefined && spent < budgetMs; spent += step) await fx.advance(step);
    await flushMicrotasks();
  } else {
    await new Promise<void>((resolve) => {
      const timer = fx.clock.setTimeout(resolve, budgetMs);
      void observed.then(() => (fx.clock.clearTimeout(timer), resolve()));
    });
  }
  return result ?? { pending: true };
}

/** Throws unless the call settled within its budget. */
export function assertSettled<T>(s: Settled<T>, what: string): asserts s is Exclude<Settled<T>, { pending: true }> {
  if ('pending' in s) throw new ConformanceFailure(`${what}: did not settle within its budget (hung)`);
}

/**
 * Throws unless a rejection is typed: the signal's abort reason, or an `HaError` with
 * a stable `HAF` code.
 */
export function assertTypedRejection(error: unknown, signal: AbortSignal, what: string): void {
  if (signal.aborted && error === abortReason(signal)) return;
  if (error instanceof HaError && /^HAF\d{4}$/.test(error.code)) return;
  throw new ConformanceFailure(
    `${what}: rejected with an untyped error (${show(error)}); expected an HaError or the abort reason`,
  );
}

/** A conformance check failed: the provider broke its contract. */
export class ConformanceFailure extends Error {
  /** Builds the failure with what was broken. */
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceFailure';
  }
}

/** A check cannot run against this fixture (a hook it needs is absent). */
export class ConformanceSkip extends Error {
  /** Builds the skip with why. */
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceSkip';
  }
}

/** Throws a {@link ConformanceFailure} unless `ok`. */
export function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new ConformanceFailure(message);
}

/** A short, safe description of a value for failure messages. */
export function show(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
