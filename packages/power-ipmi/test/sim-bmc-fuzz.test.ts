import { expect } from 'chai';
import fc from 'fast-check';
import { Secret } from '@hafence/core';
import { IpmiClient } from '@hafence/power-ipmi';
import {
  MalformedPacketError,
  PayloadType,
  encodeIpmiMessage,
  encodeV20Packet,
  ipmiRequest,
} from '@hafence/power-ipmi/protocol';
import { FUZZ_SEED, fuzzRuns, mutated, noise } from '@hafence/fuzz-helpers';
import { SimBmc, type SimSession } from '@hafence/power-ipmi/sim';

const SEED = FUZZ_SEED;
const RUNS = { noise: fuzzRuns(15000), mutated: fuzzRuns(25000), sealed: fuzzRuns(15000) };

describe('fuzzing the SimBmc parsers', function () {
  this.timeout(120000);
  let bmc: SimBmc;
  const corpus: Buffer[] = [];
  const plain: Buffer[] = [];
  let sessions: SimSession[] = [];

  before(async () => {
    bmc = await SimBmc.start({ users: [{ name: 'admin', password: 'fuzz-pw', privilege: 4 }], maxSessions: 64 });
    const handle = bmc.engine.handle.bind(bmc.engine);
    bmc.engine.handle = (d: Buffer) => {
      corpus.push(Buffer.from(d));
      return handle(d);
    };
    const client = new IpmiClient();
    for (const suite of [17, 3]) {
      const t = {
        address: '127.0.0.1',
        port: bmc.port,
        username: 'admin',
        password: new Secret('fuzz-pw'),
        cipherSuites: [suite],
      };
      await client.ping(t);
      await client.chassisStatus(t);
      await client.chassisControl(t, 'up');
      await client.chassisIdentify(t, 3);
      await client.deviceId(t);
    }
    bmc.engine.handle = handle;
    sessions = [...bmc.engine.sessions.values()].filter((s) => s.state === 'active');
    for (const [netFn, cmd, data] of [
      [0, 1, []],
      [0, 2, [1]],
      [0, 4, [5, 0]],
      [6, 1, []],
      [6, 0x3b, [4]],
      [6, 0x38, [0x8e, 4]],
      [6, 0x3c, [0, 0, 0, 0]],
    ] as const) {
      plain.push(encodeIpmiMessage(ipmiRequest(netFn, cmd, 9, Buffer.from(data))));
    }
    // Client sessions stay open on purpose: the sealed fuzz below speaks inside them.
  });
  after(async () => {
    await bmc.close();
  });

  function onlyTypedRejections(buf: Buffer): void {
    try {
      const replies = bmc.engine.handle(buf);
      expect(replies).to.be.an('array');
    } catch (err) {
      if (!(err instanceof MalformedPacketError))
        throw new Error(`untyped rejection of ${buf.toString('hex')}: ${String(err)}`);
    }
  }

  it('captured a corpus of real client packets and two active sessions', () => {
    expect(corpus.length).to.be.greaterThan(10);
    expect(sessions).to.have.length(2);
  });

  it(`${RUNS.noise} random datagrams: no crash, only MalformedPacketError`, () => {
    fc.assert(
      fc.property(noise(), (b) => {
        onlyTypedRejections(b);
      }),
      { seed: SEED, numRuns: RUNS.noise },
    );
  });

  it(`${RUNS.mutated} mutated client packets (ping, capabilities, open session, RAKP 1/3, session commands)`, () => {
    fc.assert(
      fc.property(mutated(corpus), (b) => {
        onlyTypedRejections(b);
      }),
      { seed: SEED + 1, numRuns: RUNS.mutated },
    );
  });

  it(`${RUNS.sealed} mutated requests sealed with the live sessions' keys`, () => {
    let seq = 1000;
    const sealed = fc
      .tuple(mutated(plain), fc.constantFrom(...sessions))
      .map(([p, s]) =>
        encodeV20Packet({ payloadType: PayloadType.IPMI, sessionId: s.bmcSessionId, seq: seq++, payload: p }, s.keys),
      );
    fc.assert(
      fc.property(sealed, (b) => {
        onlyTypedRejections(b);
      }),
      { seed: SEED + 2, numRuns: RUNS.sealed },
    );
  });
});
