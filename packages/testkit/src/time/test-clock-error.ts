import { HaError } from '@hafence/core';

/**
 * A {@link TestClock} option or `HAFENCE_TEST_CLOCK` value that is not valid: names the field, the value and the rule.
 */
export class TestClockOptionsError extends HaError {
  /** Builds the error for `field` holding `value`, which breaks `rule`. */
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly rule: string,
  ) {
    super('HAF6003', `invalid test clock option ${field} = ${JSON.stringify(value) ?? String(value)}: ${rule}`);
  }
}
