import { expect } from 'chai';
import { StoreOpenError } from '@hafence/store-typeorm';

describe('StoreOpenError', () => {
  it('masks the password, raw and URL-encoded, in its message and its cause, and keeps the code', () => {
    const secret = 'p@ss/wörd';
    const cause = Object.assign(
      new Error(`connect to postgres://u:${encodeURIComponent(secret)}@h/db failed; password=${secret}`),
      { code: 'ECONNREFUSED' },
    );
    const error = new StoreOpenError('postgres', cause, [secret]);
    expect(error.code).to.equal('HAF7002');
    expect(error.message).not.to.include(secret);
    expect(error.message).not.to.include(encodeURIComponent(secret));
    expect(String(error.cause)).not.to.include(secret);
    expect((error.cause as { code?: string }).code).to.equal('ECONNREFUSED');
    expect(error.message).to.include('***');
  });
});
