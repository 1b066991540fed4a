import { expect } from 'chai';
import { OPERATOR_PACKAGE_VERSION } from '@hafence/operator';

describe('@hafence/operator', () => {
  it('names its version', () => {
    expect(OPERATOR_PACKAGE_VERSION).to.match(/^\d+\.\d+\.\d+$/);
  });
});
