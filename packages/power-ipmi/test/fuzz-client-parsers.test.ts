import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  CIPHER_SUITES,
  MalformedPacketError,
  PayloadType,
  decodeChannelAuthCapabilities,
  decodeChassisStatus,
  decodeDatagram,
  decodeDeviceId,
  decodeIpmiMessage,
  decodeOpenSessionResponse,
  decodeRakp2,
  decodeRakp34,
  encodeAsfPong,
  encodeChannelAuthCapabilities,
  encodeChassisStatus,
  encodeDeviceId,
  encodeIpmiMessage,
  encodeOpenSessionResponse,
  encodeRakp2,
  encodeRakp34,
  encodeV15Packet,
  encodeV20Packet,
  ipmiRequest,
  ipmiResponse,
  type PacketKeys,
} from '@hafence/power-ipmi/protocol';
import { FUZZ_SEED, fuzzRuns, mutated, noise } from '@hafence/fuzz-helpers';

const SESSION = 0x11223344;
const keysFor = (id: number): PacketKeys => ({
  suite: CIPHER_SUITES.get(id)!,
  keys: { sik: randomBytes(32), k1: randomBytes(32), k2: randomBytes(32) },
});
const KEYS17 = keysFor(17);
const KEYS3 = keysFor(3);
const SESSION3 = 0x55667788;

function reply(cmd: number, netFn: number, data: Buffer): Buffer {
  return encodeIpmiMessage(ipmiResponse(ipmiRequest(netFn, cmd, 5), 0, data));
}
const PLAIN_REPLIES: readonly [Buffer, Buffer, Buffer, Buffer] = [
  reply(0x01, 0x00, encodeChassisStatus({ powerOn: true, powerFault: false, identifyActive: false })),
  reply(0x01, 0x06, encodeDeviceId({ deviceId: 1, manufacturerId: 343, productId: 7 })),
  reply(0x38, 0x06, encodeChannelAuthCapabilities(1)),
  reply(0x04, 0x00, randomBytes(35)),
];
const CORPUS = [
  encodeAsfPong(3),
  encodeV15Packet(PLAIN_REPLIES[2]),
  encodeV20Packet({
    payloadType: PayloadType.OPEN_SESSION_RESPONSE,
    sessionId: 0,
    seq: 0,
    payload: encodeOpenSessionResponse({
      tag: 1,
      status: 0,
      privilege: 4,
      consoleSessionId: SESSION,
      bmcSessionId: 9,
      auth: 3,
      integrity: 4,
      confidentiality: 1,
    }),
  }),
  encodeV20Packet({
    payloadType: PayloadType.RAKP2,
    sessionId: 0,
    seq: 0,
    payload: encodeRakp2({
      tag: 2,
      status: 0,
      consoleSessionId: SESSION,
      bmcRandom: randomBytes(16),
      bmcGuid: randomBytes(16),
      authCode: randomBytes(32),
    }),
  }),
  encodeV20Packet({
    payloadType: PayloadType.RAKP4,
    sessionId: 0,
    seq: 0,
    payload: encodeRakp34({ tag: 3, status: 0, sessionId: SESSION, code: randomBytes(16) }),
  }),
  ...PLAIN_REPLIES.map((p, i) =>
    encodeV20Packet({ payloadType: 0, sessionId: SESSION, seq: i + 1, payload: p }, KEYS17),
  ),
  ...PLAIN_REPLIES.map((p, i) =>
    encodeV20Packet({ payloadType: 0, sessionId: SESSION3, seq: i + 1, payload: p }, KEYS3),
  ),
];

/** The client's whole inbound path: datagram, session wrapper, payload parsers. */
function parseAsClient(buf: Buffer): void {
  const d = decodeDatagram(buf, (id) => (id === SESSION ? KEYS17 : id === SESSION3 ? KEYS3 : undefined));
  if (d.kind === 'asf') return;
  const p = d.packet.payload;
  switch (d.packet.payloadType) {
    case PayloadType.OPEN_SESSION_RESPONSE:
      decodeOpenSessionResponse(p);
      return;
    case PayloadType.RAKP2:
      decodeRakp2(p);
      return;
    case PayloadType.RAKP4:
      decodeRakp34(p);
      return;
    case PayloadType.IPMI: {
      const m = decodeIpmiMessage(p);
      const data = m.data.subarray(1);
      if (m.netFn === 0x01 && m.cmd === 0x01) decodeChassisStatus(data);
      else if (m.netFn === 0x07 && m.cmd === 0x01) decodeDeviceId(data);
      else if (m.netFn === 0x07 && m.cmd === 0x38) decodeChannelAuthCapabilities(data);
      return;
    }
    default:
  }
}

function onlyTypedRejections(buf: Buffer): void {
  try {
    parseAsClient(buf);
  } catch (err) {
    if (!(err instanceof MalformedPacketError))
      throw new Error(`untyped rejection of ${buf.toString('hex')}: ${String(err)}`);
  }
}

export const CLIENT_FUZZ_RUNS = { noise: fuzzRuns(20000), mutated: fuzzRuns(30000), sealed: fuzzRuns(20000) };

describe('fuzzing the client parsers', function () {
  this.timeout(120000);

  it('the corpus itself parses', () => {
    for (const [i, b] of CORPUS.entries()) expect(() => parseAsClient(b), `corpus ${i}`).to.not.throw();
  });

  it(`${CLIENT_FUZZ_RUNS.noise} random datagrams: no crash, only MalformedPacketError`, () => {
    fc.assert(
      fc.property(noise(), (b) => {
        onlyTypedRejections(b);
      }),
      { seed: FUZZ_SEED, numRuns: CLIENT_FUZZ_RUNS.noise },
    );
  });

  it(`${CLIENT_FUZZ_RUNS.mutated} mutated valid replies: no crash, only MalformedPacketError`, () => {
    fc.assert(
      fc.property(mutated(CORPUS), (b) => {
        onlyTypedRejections(b);
      }),
      { seed: FUZZ_SEED + 1, numRuns: CLIENT_FUZZ_RUNS.mutated },
    );
  });

  it(`${CLIENT_FUZZ_RUNS.sealed} mutated payloads sealed with valid integrity and encryption (suites 17 and 3)`, () => {
    const sealed = fc.tuple(mutated(PLAIN_REPLIES), fc.boolean(), fc.nat()).map(([p, use17, seq]) => {
      return encodeV20Packet(
        { payloadType: 0, sessionId: use17 ? SESSION : SESSION3, seq, payload: p },
        use17 ? KEYS17 : KEYS3,
      );
    });
    fc.assert(
      fc.property(sealed, (b) => {
        onlyTypedRejections(b);
      }),
      { seed: FUZZ_SEED + 2, numRuns: CLIENT_FUZZ_RUNS.sealed },
    );
  });
});
