import { AuthError, ConfigError, HaError, TimeoutError, UnreachableError, CLOCK, HA_SERVICE } from '@hafence/core';
import { expect } from 'chai';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

type ErrorsModule = {
  AuthError: new (host: string, driver: string) => Error;
  TimeoutError: new (op: string, ms: number) => Error;
};

/** Loads the error classes from a second copy of core's files: what two installed copies of core give. */
async function secondCopy(): Promise<{ mod: ErrorsModule; dir: string }> {
  const dist = dirname(createRequire(import.meta.url).resolve('@hafence/core'));
  const dir = mkdtempSync(join(tmpdir(), 'hafence-core-copy-'));
  cpSync(join(dist, 'errors'), join(dir, 'errors'), { recursive: true });
  const mod = (await import(pathToFileURL(join(dir, 'errors', 'power-errors.js')).href)) as ErrorsModule;
  return { mod, dir };
}

describe('errors branded across copies of core (Symbol.for)', () => {
  let copy: ErrorsModule;
  let dir: string;
  before(async () => ({ mod: copy, dir } = await secondCopy()));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('an error of the other copy is instanceof its class, HaError and Error', () => {
    const err = new copy.TimeoutError('status', 500);
    expect(err instanceof TimeoutError).to.equal(true);
    expect(err instanceof HaError).to.equal(true);
    expect(err instanceof Error).to.equal(true);
    expect(new copy.AuthError('h1', 'ipmi') instanceof AuthError).to.equal(true);
  });

  it('subclasses still discriminate, in either copy', () => {
    const err = new copy.TimeoutError('status', 500);
    expect(err instanceof AuthError).to.equal(false);
    expect(err instanceof UnreachableError).to.equal(false);
    expect(err instanceof ConfigError).to.equal(false);
    expect(new TimeoutError('status', 500) instanceof AuthError).to.equal(false);
    expect(new TimeoutError('status', 500) instanceof TimeoutError).to.equal(true);
  });

  it('a plain Error or a look-alike object is no HaError', () => {
    expect(new Error('x') instanceof HaError).to.equal(false);
    expect({ code: 'HAF1002', name: 'TimeoutError' } instanceof TimeoutError).to.equal(false);
    expect((null as unknown as object) instanceof HaError).to.equal(false);
  });

  it('the brand does not show in JSON or enumerable keys', () => {
    const err = new TimeoutError('status', 500);
    expect(Object.keys(err)).to.not.include('hafence.error');
    expect(JSON.stringify(err)).to.not.contain('hafence');
  });

  it('DI tokens are registry symbols, equal across copies', () => {
    expect(CLOCK).to.equal(Symbol.for('hafence.Clock'));
    expect(HA_SERVICE).to.equal(Symbol.for('hafence.HaService'));
  });
});
