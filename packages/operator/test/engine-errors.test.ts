import { expect } from 'chai';
import { InvalidRequestError, LeaseLostError, NotFoundError, NotOwnerError } from '@hafence/core';
import { apiErrorOf } from '@hafence/operator/internal';

describe('operator API: engine errors as answers', () => {
  it('maps unknown things to 404 and refused requests to 409; anything else is not an API answer', () => {
    const answer = (e: unknown) => {
      const a = apiErrorOf(e);
      return a && [a.status, a.code];
    };
    expect(answer(new NotFoundError('resource', 'host:h9'))).to.deep.equal([404, 'not-found']);
    expect(answer(new NotOwnerError('c1', 'ms2'))).to.deep.equal([409, 'conflict']);
    expect(answer(new InvalidRequestError('zone switch'))).to.deep.equal([409, 'conflict']);
    expect(answer(new LeaseLostError('c1', 'epoch 3'))).to.deep.equal([409, 'conflict']);
    expect(answer(new Error('boom'))).to.equal(undefined);
  });
});
