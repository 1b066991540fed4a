import type { Clock, HAProvider, HaSettings, Inventory, ResourceSpec } from '@hafence/core';

/**
 * What a provider under test hands to the provider conformance suite. A fresh fixture
 * is made for every check, so a check may break the resource without cleaning up.
 */
export interface ProviderFixture {
  readonly provider: HAProvider;
  /** A resource the provider knows: up, eligible, not in maintenance, its power reads ON. */
  readonly resource: ResourceSpec;
  /** The clock the provider runs on; the suite puts it in every `ctx.clock`. */
  readonly clock: Clock;
  /**
   * Moves virtual time forward (`(ms) => testClock.advance(ms)`). Absent: the suite waits
   * in real time on {@link ProviderFixture.clock}.
   */
  advance?(ms: number): Promise<void>;
  /** The inventory handed in `ctx.inventory` (an empty `MemoryInventory` when absent). */
  readonly inventory?: Inventory;
  /** `ctx.settings` over the defaults (the suite sets `powerOffVerifyTimeout` itself). */
  readonly settings?: Readonly<Partial<HaSettings>>;
  /**
   * Makes the resource's activity impossible to observe from here on (metrics
   * unreadable, shared mount unreadable…): the activity check must then answer `error`.
   */
  makeActivityUndecidable(): void | Promise<void>;
  /** Makes the resource fail its health checks from here on (a crash); the check is skipped when absent. */
  breakHealth?(): void | Promise<void>;
  /** Makes the provider's own I/O for the resource hang until aborted (the abort checks use it when present). */
  hangChecks?(): void | Promise<void>;
  /** Releases what the fixture started. */
  close?(): Promise<void>;
}

/** Options of the provider conformance checks. */
export interface ProviderConformanceOptions {
  /** How long a call may take before the suite calls it hung (default 120 000 ms, virtual or real). */
  readonly callBudgetMs?: number;
  /** How soon after its signal aborts a call must settle (default 1 000 ms). */
  readonly abortBudgetMs?: number;
  /** `ctx.settings.powerOffVerifyTimeout` the suite hands to recover and fence (default 10 000 ms). */
  readonly powerOffVerifyTimeoutMs?: number;
}

/** Makes a fresh {@link ProviderFixture} for one check. */
export type ProviderFixtureFactory = () => ProviderFixture | Promise<ProviderFixture>;
