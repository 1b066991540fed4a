import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { DriverError, Secret } from '@hafence/core';
import { ReplayWindow, toIpmiBmc } from '@hafence/power-ipmi';
import {
  CIPHER_SUITES,
  MalformedPacketError,
  checksum,
  decodeIpmiMessage,
  decodeOpenSessionRequest,
  decodeRakp1,
  decodeSessionPacket,
  decryptPayload,
  deriveSessionKeys,
  encodeIpmiMessage,
  encodeOpenSessionRequest,
  encodeRakp1,
  encodeV20Packet,
  encryptPayload,
  ipmiRequest,
  passwordKey,
  rakp4Icv,
  type PacketKeys,
} from '@hafence/power-ipmi/protocol';

describe('IPMI codecs', () => {
  it('IPMI message checksums are zero-sum and verified', () => {
    const b = encodeIpmiMessage(ipmiRequest(0x00, 0x02, 7, Buffer.from([1])));
    expect(checksum(b, 0, 3)).to.equal(0);
    expect(checksum(b, 3)).to.equal(0);
    expect(decodeIpmiMessage(b)).to.include({ netFn: 0, cmd: 2, seq: 7 });
    b.writeUInt8(b.readUInt8(6) ^ 1, 6);
    expect(() => decodeIpmiMessage(b)).to.throw(MalformedPacketError);
  });

  it('Open Session Request and RAKP 1 round-trip', () => {
    const open = { tag: 9, privilege: 4, consoleSessionId: 0xdeadbeef, auth: 3, integrity: 4, confidentiality: 1 };
    expect(decodeOpenSessionRequest(encodeOpenSessionRequest(open))).to.deep.equal(open);
    const r1 = { tag: 1, bmcSessionId: 5, consoleRandom: randomBytes(16), role: 0x14, username: Buffer.from('admin') };
    expect(decodeRakp1(encodeRakp1(r1))).to.deep.equal(r1);
  });

  it('AES-CBC-128 payloads round-trip for every length (property)', () => {
    const k2 = randomBytes(20);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (a) => {
        const data = Buffer.from(a);
        const sealed = encryptPayload(k2, data);
        expect(sealed.length % 16).to.equal(0);
        expect(decryptPayload(k2, sealed).equals(data)).to.equal(true);
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  for (const id of [3, 17]) {
    it(`suite ${id}: sealed packets verify, and one flipped bit is a MalformedPacketError`, () => {
      const suite = CIPHER_SUITES.get(id)!;
      const keys = deriveSessionKeys(
        suite,
        passwordKey('pw'),
        randomBytes(16),
        randomBytes(16),
        0x14,
        Buffer.from('admin'),
      );
      expect(keys.k1.length).to.equal(suite.authCodeLength);
      const pk: PacketKeys = { suite, keys };
      const payload = encodeIpmiMessage(ipmiRequest(0, 1, 1));
      const pkt = encodeV20Packet({ payloadType: 0, sessionId: 42, seq: 3, payload }, pk);
      const back = decodeSessionPacket(pkt, (sid) => (sid === 42 ? pk : undefined));
      expect(back.payload.equals(payload)).to.equal(true);
      expect(back).to.include({ authenticated: true, encrypted: true, seq: 3 });
      for (let i = 4; i < pkt.length; i += 7) {
        const bad = Buffer.from(pkt);
        bad.writeUInt8(bad.readUInt8(i) ^ 0x01, i);
        expect(() => decodeSessionPacket(bad, (sid) => (sid === 42 ? pk : undefined))).to.throw(MalformedPacketError);
      }
    });
  }

  it('RAKP 4 ICV is 12 bytes for suite 3 and 16 for suite 17', () => {
    for (const [id, len] of [
      [3, 12],
      [17, 16],
    ] as const) {
      const ctx = {
        suite: CIPHER_SUITES.get(id)!,
        consoleSessionId: 1,
        bmcSessionId: 2,
        consoleRandom: randomBytes(16),
        bmcRandom: randomBytes(16),
        bmcGuid: randomBytes(16),
        role: 0x14,
        username: Buffer.from('a'),
      };
      expect(rakp4Icv(ctx, randomBytes(32)).length).to.equal(len);
    }
  });

  it('the replay window accepts each sequence number once, and nothing older than 16', () => {
    const w = new ReplayWindow();
    expect(w.accept(5)).to.equal(true);
    expect(w.accept(5)).to.equal(false);
    expect(w.accept(3)).to.equal(true);
    expect(w.accept(40)).to.equal(true);
    expect(w.accept(24)).to.equal(false);
    expect(w.accept(30)).to.equal(true);
    expect(w.accept(30)).to.equal(false);
  });

  it('cipher policy: 17 then 3 by default, 0 only when allowed, no fallback on request', () => {
    const t = { host: 'h', address: '127.0.0.1', username: 'u', password: new Secret('p') };
    expect(toIpmiBmc(t).cipherSuites).to.deep.equal([17, 3]);
    expect(toIpmiBmc({ ...t, options: { fallbackCipherSuite: null } }).cipherSuites).to.deep.equal([17]);
    expect(() => toIpmiBmc({ ...t, options: { cipherSuite: 0 } })).to.throw(DriverError);
    expect(
      toIpmiBmc({ ...t, options: { cipherSuite: 0, allowCipher0: true, fallbackCipherSuite: null } }).cipherSuites,
    ).to.deep.equal([0]);
    expect(toIpmiBmc({ ...t, options: { privilege: 'operator' } }).privilege).to.equal(3);
  });
});
