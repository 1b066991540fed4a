import { expect } from 'chai';
import { startApiRig, type ApiRig } from './api-rig.js';
import { openStream, until, type SseStream } from './sse-client.js';

const MINUTE = 60_000;

describe('operator API: event stream (SSE)', () => {
  let rig: ApiRig;
  const streams: SseStream[] = [];
  beforeEach(async () => {
    rig = await startApiRig({ options: { limits: { sseKeepAliveMs: 15_000 } } });
    await rig.cluster.clock.advance(5 * MINUTE); // every host AVAILABLE
  });
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    await rig.close();
  });

  const crashOf = (host: string) => (m: { event?: string; data?: string }) =>
    m.event === 'resource.transition' && (JSON.parse(m.data!) as { resource: string }).resource === host;

  it('delivers a crashed host’s transition with id, event type and the event as data', async () => {
    const s = await openStream(rig.api.address.port);
    streams.push(s);
    expect(s.status).to.equal(200);
    rig.cluster.provider.host('h2').crashed = true;
    await rig.cluster.clock.advance(2 * MINUTE);
    await until('h2 leaves AVAILABLE on the stream', 5_000, () => s.messages.some(crashOf('h2')));
    const m = s.messages.find(crashOf('h2'))!;
    const event = JSON.parse(m.data!) as { from: string; to: string; t: number };
    expect(event).to.include({ from: 'AVAILABLE', to: 'SUSPECT' });
    expect(Number(m.id)).to.be.greaterThan(0);
    const ids = s.messages.map((x) => Number(x.id));
    expect(ids, 'ids increase').to.deep.equal([...ids].sort((a, b) => a - b));
  });

  it('replays what followed Last-Event-ID from the ring', async () => {
    const first = await openStream(rig.api.address.port);
    streams.push(first);
    rig.cluster.provider.host('h2').crashed = true;
    await rig.cluster.clock.advance(2 * MINUTE);
    await until('events on the first stream', 5_000, () => first.messages.some(crashOf('h2')));
    const cut = first.messages.findIndex(crashOf('h2'));
    const lastSeen = first.messages[cut - 1]?.id ?? String(Number(first.messages[cut]!.id) - 1);
    const later = first.messages.slice(cut);
    const again = await openStream(rig.api.address.port, { 'last-event-id': lastSeen });
    streams.push(again);
    await until('the replay', 5_000, () => again.messages.length >= later.length);
    expect(again.messages.slice(0, later.length)).to.deep.equal(later);
  });

  it('answers 400 naming Last-Event-ID when it is not a number', async () => {
    const s = await openStream(rig.api.address.port, { 'last-event-id': 'abc' });
    await s.ended;
    expect(s.status).to.equal(400);
    expect(JSON.parse(s.body()).error).to.include({ code: 'bad-request', field: 'Last-Event-ID' });
  });

  it('sends a keep-alive comment every 15 s of the clock', async () => {
    const s = await openStream(rig.api.address.port);
    streams.push(s);
    await until('the stream is registered', 2_000, () => s.status === 200);
    await rig.cluster.clock.advance(14_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.comments).to.deep.equal([]);
    await rig.cluster.clock.advance(1_000);
    await until('a keep-alive', 2_000, () => s.comments.includes(': keep-alive'));
  });

  it('answers 429 to the 65th client and takes one again when a place is free', async () => {
    for (let i = 0; i < 64; i++) {
      const s = await openStream(rig.api.address.port);
      streams.push(s);
      expect(s.status, `client ${i + 1}`).to.equal(200);
    }
    const extra = await openStream(rig.api.address.port);
    await extra.ended;
    expect(extra.status).to.equal(429);
    expect(JSON.parse(extra.body()).error.code).to.equal('too-many');
    streams.shift()!.close();
    const deadline = Date.now() + 5_000;
    let accepted = false;
    while (!accepted && Date.now() < deadline) {
      const s = await openStream(rig.api.address.port);
      accepted = s.status === 200;
      if (accepted) streams.push(s);
      else await s.ended;
    }
    expect(accepted, 'a client after one left').to.equal(true);
  });
});
