import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Secret } from '@hafence/core';
import { RedfishPowerDriver } from '@hafence/power-redfish';
import { HOSTILE_PW, HostileBmc } from './helpers/hostile-bmc.js';

/**
 * Outside attacks on RedfishPowerDriver's files and resources (issue 14). Titles ending
 * "(found from outside)" failed on the code they were written against (fixed since).
 */
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runs an ESM snippet in a child node (cwd: this package), killed after `ms`; its stdout or 'KILLED'. */
function child(code: string, ms: number): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', code],
      { cwd: packageDir, timeout: ms, killSignal: 'SIGKILL' },
      (err, stdout) => resolve(err && (err as { killed?: boolean }).killed ? 'KILLED' : String(stdout).trim()),
    );
  });
}

describe('break: RedfishPowerDriver files and resources', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'hafence-break-rf-res-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const where of ['driver option', 'target option'] as const) {
    it(`a caFile that is a FIFO (${where}): a typed error within the call timeout, the event loop never blocked (found from outside)`, async () => {
      const fifo = join(dir, `ca-${where.replace(' ', '-')}.fifo`);
      execFileSync('mkfifo', [fifo]);
      const driverOpts = where === 'driver option' ? `{ caFile: ${JSON.stringify(fifo)} }` : '{}';
      const targetOpts = where === 'target option' ? `{ caFile: ${JSON.stringify(fifo)} }` : '{}';
      const out = await child(
        `import { RedfishPowerDriver } from '@hafence/power-redfish';
         import { Secret } from '@hafence/core';
         const beat = setInterval(() => undefined, 100);
         let code = 'none';
         try {
           const d = new RedfishPowerDriver(${driverOpts});
           await d.status({ host: 'h', address: '127.0.0.1', port: 1, username: 'a', password: new Secret('p'),
             options: ${targetOpts} }, { signal: AbortSignal.timeout(3000), timeoutMs: 1000 });
           code = 'ok';
         } catch (e) { code = e.code ?? 'untyped'; }
         clearInterval(beat);
         console.log(code);`,
        6000,
      );
      expect(out).to.be.oneOf(['HAF2001', 'HAF1004', 'HAF1003', 'HAF1002']);
    });
  }

  it('no descriptor leak: 40 drivers built, used and closed leave the open fd count where it was', async () => {
    const bmc = new HostileBmc();
    await bmc.start();
    try {
      const fds = () => readdirSync('/proc/self/fd').length;
      const run = async () => {
        const d = new RedfishPowerDriver({ ca: bmc.certPem });
        const t = { host: 'h', address: '127.0.0.1', port: bmc.port, username: 'a', password: new Secret(HOSTILE_PW) };
        expect(await d.status(t, { signal: AbortSignal.timeout(5000), timeoutMs: 3000 })).to.equal('ON');
        await d.close();
      };
      await run();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const before = fds();
      for (let i = 0; i < 40; i++) await run();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(fds() - before).to.be.lessThan(5);
      expect(bmc.open.size).to.equal(0);
    } finally {
      await bmc.close();
    }
  });

  it("a caFile bundling two BMCs' self-signed certificates with the same subject (vendor default) trusts both (found from outside)", async () => {
    // BMCs of one vendor often ship self-signed certificates with one and the same subject; the README says the
    // certificate itself works as the CA of a self-signed BMC, so a bundle of them (one --ca-file for --targets)
    // should trust each. OpenSSL looks a self-signed leaf up by subject: only the first of the bundle is found.
    const a = new HostileBmc();
    const b = new HostileBmc();
    await a.start();
    await b.start();
    const d = new RedfishPowerDriver({ ca: a.certPem + b.certPem });
    try {
      const t = (port: number) => ({
        host: `bmc-${port}`,
        address: '127.0.0.1',
        port,
        username: 'a',
        password: new Secret(HOSTILE_PW),
      });
      const c = () => ({ signal: AbortSignal.timeout(5000), timeoutMs: 3000 });
      const results = await Promise.all(
        [a.port, b.port].map((port) => d.status(t(port), c()).catch((e: { code?: string }) => e.code ?? 'untyped')),
      );
      expect(results).to.deep.equal(['ON', 'ON']);
    } finally {
      await d.close();
      await a.close();
      await b.close();
    }
  });
});
