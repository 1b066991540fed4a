import { expect } from 'chai';
import { PowerManagementService, Secret, type Logger } from '@hafence/core';
import { TestClock, flushMicrotasks } from '@hafence/testkit';
import { ScriptedDriver } from './power-service-helpers.js';

/** Issue 13: a shutdown (close()) cancels running power operations quietly: debug lines, never warnings. */
describe('PowerManagementService.close(): cancelled operations are not warnings', () => {
  it('a sync read, an operator read and a command cut short by close() log nothing above debug', async () => {
    const lines: Array<[string, string, unknown]> = [];
    const log =
      (level: string) =>
      (message: string, fields?: unknown): void => {
        lines.push([level, message, fields]);
      };
    const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
    const clock = new TestClock();
    const d = new ScriptedDriver('a');
    // Every call waits for its signal: in flight until close() aborts it.
    d.behave = (_op, _t, o) =>
      new Promise<void>((_resolve, reject) => o.signal.addEventListener('abort', () => reject(o.signal.reason)));
    const svc = new PowerManagementService({ clock, logger, drivers: [d], config: { powerSyncInterval: 1000 } });
    for (const h of ['h1', 'h2', 'h3'])
      svc.register(h, { target: { host: h, address: `bmc-${h}`, username: 'admin', password: new Secret('pw') } });
    svc.startSync();
    await clock.advance(1000); // every host's first sync read is running
    const read = svc.status('h2', { by: 'operator' }).catch((e: unknown) => e);
    const off = svc.command('h3', 'off', { by: 'ha' }).catch((e: unknown) => e);
    await flushMicrotasks();
    expect(d.active).to.be.greaterThan(0);
    await svc.close();
    expect(await read).to.be.instanceOf(Error);
    expect(await off).to.be.instanceOf(Error);
    expect(lines.filter(([level]) => level !== 'debug')).to.deep.equal([]);
  });
});
