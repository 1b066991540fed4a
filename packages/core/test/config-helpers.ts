import { expect } from 'chai';
import { ConfigError } from '@hafence/core';

/** The ConfigError thrown by `fn` (fails the test if it throws anything else, or nothing). */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}
