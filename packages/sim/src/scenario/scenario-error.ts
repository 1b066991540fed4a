import { HaError } from '@hafence/core';

/** One problem in a scenario file: where (a dotted path), the value found, the rule broken. */
export interface ScenarioIssue {
  readonly path: string;
  readonly value: unknown;
  readonly rule: string;
}

/** A scenario file that cannot be read or does not match the docs/behaviour.md#scenarios format. */
export class ScenarioError extends HaError {
  /** Builds the error from every issue found in `source` (a file name or `(inline)`). */
  constructor(
    readonly source: string,
    readonly issues: readonly ScenarioIssue[],
    options?: { cause?: unknown },
  ) {
    super(
      'HAF6001',
      `invalid scenario ${source}: ${issues.map((i) => `${i.path || '(root)'} = ${show(i.value)}: ${i.rule}`).join('; ')}`,
      options,
    );
  }
}

/** A valid scenario that asks for something this runner does not simulate (yet). */
export class UnsupportedScenarioError extends HaError {
  /** Builds the error for `feature`. */
  constructor(readonly feature: string) {
    super('HAF6002', `scenario uses ${feature}, which the single-engine runner does not simulate`);
  }
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
