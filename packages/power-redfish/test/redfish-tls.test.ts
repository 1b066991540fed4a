import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtocolError, Secret } from '@hafence/core';
import { RedfishPowerDriver } from '@hafence/power-redfish';
import { generateSelfSignedCertificate, type RedfishSim } from '@hafence/sim';
import { HOSTILE_PW, HostileBmc } from './helpers/hostile-bmc.js';
import { CaptureLogger, simTarget, startSim } from './helpers/sim-fixture.js';

const call = () => ({ signal: AbortSignal.timeout(5000), timeoutMs: 3000 });

describe('RedfishPowerDriver TLS: verified by default, a CA file, an explicit and loud opt-out', function () {
  this.timeout(20_000);
  let sim: RedfishSim;
  let other: RedfishSim;
  const dir = mkdtempSync(join(tmpdir(), 'hafence-redfish-tls-'));
  const drivers: RedfishPowerDriver[] = [];
  const make = (o: ConstructorParameters<typeof RedfishPowerDriver>[0]) => {
    const d = new RedfishPowerDriver(o);
    drivers.push(d);
    return d;
  };

  before(async () => {
    sim = await startSim('dell');
    other = await startSim('generic');
  });
  after(async () => {
    await Promise.all(drivers.map((d) => d.close()));
    await sim.close();
    await other.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the self-signed certificate by default, with a ProtocolError naming the way out', async () => {
    const before = sim.stats.requests;
    const err = await make({ logger: new CaptureLogger() })
      .status(simTarget(sim), call())
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ProtocolError);
    expect((err as ProtocolError).message).to.include('caFile');
    expect(sim.stats.requests).to.equal(before); // not one HTTP request went over the untrusted connection
  });

  it('refuses a certificate signed by another CA than the one given', async () => {
    const err = await make({ ca: other.certPem })
      .status(simTarget(sim), call())
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ProtocolError);
  });

  it('accepts it with its CA given as a file (driver option, or per target)', async () => {
    const file = join(dir, 'bmc-ca.pem');
    writeFileSync(file, sim.certPem);
    expect(await make({ caFile: file }).status(simTarget(sim), call())).to.equal('ON');
    expect(await make({}).status(simTarget(sim, { caFile: file }), call())).to.equal('ON');
  });

  it('a CA file that is missing or holds no certificate is a ConfigError naming it', async () => {
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate');
    for (const caFile of [join(dir, 'missing.pem'), junk]) {
      const err = await make({})
        .status(simTarget(sim, { caFile }), call())
        .catch((e: unknown) => e);
      expect((err as { code?: string }).code).to.equal('HAF2001');
      expect((err as Error).message).to.include(caFile);
    }
  });

  it('accepts it with insecureTls, and warns every time a driver is built with it', async () => {
    const logger = new CaptureLogger();
    const a = make({ insecureTls: true, logger });
    make({ insecureTls: true, logger });
    expect(logger.lines.filter((l) => l.level === 'warn')).to.have.length(2);
    expect(await a.status(simTarget(sim), call())).to.equal('ON');
  });

  it('a target opting out on its own is warned about once per driver and host', async () => {
    const logger = new CaptureLogger();
    const d = make({ logger });
    expect(await d.status(simTarget(sim, { insecureTls: true }), call())).to.equal('ON');
    expect(await d.status(simTarget(sim, { insecureTls: true }), call())).to.equal('ON');
    expect(logger.lines.filter((l) => l.level === 'warn' && l.fields?.host === simTarget(sim).host)).to.have.length(1);
  });
});

describe('RedfishPowerDriver TLS: a bundle of self-signed certificates sharing a subject', function () {
  this.timeout(20_000);
  const bmcs: HostileBmc[] = [];
  const bmc = async (tls?: { cert: string; key: string }) => {
    const b = new HostileBmc(tls);
    await b.start();
    bmcs.push(b);
    return b;
  };
  const target = (b: HostileBmc) => ({
    host: `bmc-${b.port}`,
    address: '127.0.0.1',
    port: b.port,
    username: 'a',
    password: new Secret(HOSTILE_PW),
  });
  const codeOf = (p: Promise<unknown>) =>
    p.then(
      (v) => v,
      (e: { code?: string }) => e.code ?? 'untyped',
    );
  afterEach(async () => {
    await Promise.all(bmcs.splice(0).map((b) => b.close()));
  });

  it('trusts each certificate of the bundle, and still refuses a stranger and a bundled certificate of another host before any request', async () => {
    const a = await bmc();
    const b = await bmc();
    // same subject as a and b, not in the bundle
    const stranger = await bmc();
    // in the bundle, but made for another address: the hostname check refuses it
    const elsewhere = generateSelfSignedCertificate({ notBeforeMs: Date.now() - 60_000, altNames: ['10.9.9.9'] });
    const moved = await bmc({ cert: elsewhere.certPem, key: elsewhere.keyPem });
    const d = new RedfishPowerDriver({ ca: a.certPem + b.certPem + elsewhere.certPem });
    try {
      expect(await Promise.all([a, b, a, b].map((x) => codeOf(d.status(target(x), call()))))).to.deep.equal([
        'ON',
        'ON',
        'ON',
        'ON',
      ]);
      expect(await codeOf(d.status(target(stranger), call()))).to.equal('HAF1004');
      expect(await codeOf(d.status(target(moved), call()))).to.equal('HAF1004');
      expect(stranger.seen).to.deep.equal([]);
      expect(moved.seen).to.deep.equal([]);
    } finally {
      await d.close();
    }
  });
});
