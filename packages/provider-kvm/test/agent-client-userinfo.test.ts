import { expect } from 'chai';
import { Secret, UnreachableError } from '@hafence/core';
import { agentRequest } from '@hafence/provider-kvm';

/*
 * An agent URL with a `user:password@` inside (the CLI refuses one; a library caller may
 * not): the error of a failed request names the URL with its userinfo masked.
 */
describe('agentRequest: a password inside the agent URL never shows in its error', () => {
  it('an unreachable agent at http://admin:PW@127.0.0.1:1/ is an UnreachableError without PW', async () => {
    const err = await agentRequest(
      'h1',
      'http://admin:Agent-Url-Pw-77@127.0.0.1:1/',
      '/health',
      new Secret('t'.repeat(32)),
      {
        method: 'GET',
        timeoutMs: 5_000,
      },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(UnreachableError);
    const e = err as UnreachableError;
    expect(`${e.message} ${JSON.stringify(e)}`).not.to.include('Agent-Url-Pw-77');
    expect(e.message).to.include('[redacted]@127.0.0.1:1');
  });
});
