import { expect } from 'chai';
import { connect, type Socket } from 'node:net';
import { ServeRig, stateOf, type ServeEvent } from './serve-rig.js';

const PASSWORD = 'Agent-Flood-Pw-5521';
const TOKEN = 'agent-flood-token-9d3e7a21c4';
const HOSTS = ['h1', 'h2', 'h3'] as const;

/** Opens `n` TCP connections to `port` from local address `from`; errors are swallowed (the agent may evict them). */
function openIdle(port: number, n: number, from: string, sockets: Socket[]): void {
  for (let i = 0; i < n; i++) {
    const s = connect({ host: '127.0.0.1', port, localAddress: from });
    s.on('error', () => undefined);
    sockets.push(s);
  }
}

/**
 * Issue 13 attack: the agent keeps idle connections 65 s, evicts the oldest idle connection of an address at its
 * per-address cap, and closes silent connections after 10 s. A flood of idle TCP connections (400 from one address)
 * and slowloris (partial headers trickled, from one and from many loopback addresses) against a real `hafence agent`
 * while a real `hafence serve` health-checks it every second: the host must never leave AVAILABLE, nothing fenced.
 */
describe('break: 400 idle connections and slowloris against a real agent while serve checks it (real processes)', function () {
  this.timeout(120_000);
  const rig = new ServeRig({ name: 'agent-flood', password: PASSWORD, token: TOKEN, hosts: HOSTS });
  const sockets: Socket[] = [];
  let trickle: NodeJS.Timeout | undefined;

  before(async () => {
    await rig.start({ serve: true });
    await rig.allAvailable();
  });

  afterEach(function () {
    rig.dumpIfFailed(this.currentTest);
  });

  after(async () => {
    if (trickle) clearInterval(trickle);
    for (const s of sockets) s.destroy();
    await rig.close();
  });

  it('h1 stays AVAILABLE through 25 s of idle floods and slowloris; no fence, no power op', async () => {
    const port = Number(new URL(rig.setup.urls.get('h1')!).port);
    const before = rig.serve.json<ServeEvent>().length;
    // 400 idle connections from 127.0.0.1 (the serve's own address), 40 from each of 10 other loopback addresses.
    openIdle(port, 400, '127.0.0.1', sockets);
    for (let a = 2; a <= 11; a++) openIdle(port, 40, `127.0.0.${a}`, sockets);
    // Slowloris: 30 connections from 127.0.0.1 and 30 spread over other addresses, each sending a header byte a second.
    const slow: Socket[] = [];
    for (let i = 0; i < 60; i++) {
      const from = i < 30 ? '127.0.0.1' : `127.0.0.${20 + (i % 30)}`;
      const s = connect({ host: '127.0.0.1', port, localAddress: from });
      s.on('error', () => undefined);
      s.on('connect', () => s.write('GET /health HTTP/1.1\r\nHost: x\r\n'));
      slow.push(s);
      sockets.push(s);
    }
    trickle = setInterval(() => {
      for (const s of slow) if (!s.destroyed && s.writable) s.write('X-a: b\r\n');
      // Re-open what the agent closed, to keep the pressure on.
      const open = sockets.filter((s) => !s.destroyed).length;
      if (open < 600) openIdle(port, 50, '127.0.0.1', sockets);
    }, 1000);
    await new Promise((r) => setTimeout(r, 25_000));
    clearInterval(trickle);
    trickle = undefined;
    expect(rig.serve.alive, 'serve alive').to.equal(true);
    expect(rig.agents.get('h1')!.alive, 'agent alive').to.equal(true);
    const after = rig.serve.json<ServeEvent>().slice(before);
    const h1 = after.filter((e) => e.type === 'resource.transition' && e.resource === 'h1').map((e) => e.to);
    expect(h1, 'h1 transitions during the flood').to.deep.equal([]);
    expect(stateOf('h1', rig.serve.json<ServeEvent>())).to.equal('AVAILABLE');
    expect(after.filter((e) => /fenc|power\.action|released/i.test(e.type)).map((e) => e.type)).to.deep.equal([]);
    expect(rig.bmcs.get('h1')!.chassis.log, 'no power op on h1').to.deep.equal([]);
  });
  it("h1 stays AVAILABLE while 127.0.0.1 churns 20 new connections every 50 ms for 20 s (evicting serve's idle one)", async () => {
    const port = Number(new URL(rig.setup.urls.get('h1')!).port);
    const before = rig.serve.json<ServeEvent>().length;
    trickle = setInterval(() => {
      for (const s of sockets.splice(0, Math.max(0, sockets.length - 200))) s.destroy();
      openIdle(port, 20, '127.0.0.1', sockets);
    }, 50);
    await new Promise((r) => setTimeout(r, 20_000));
    clearInterval(trickle);
    trickle = undefined;
    expect(rig.serve.alive, 'serve alive').to.equal(true);
    const after = rig.serve.json<ServeEvent>().slice(before);
    const h1 = after.filter((e) => e.type === 'resource.transition' && e.resource === 'h1').map((e) => e.to);
    expect(h1, 'h1 transitions during the churn').to.deep.equal([]);
    expect(after.filter((e) => /fenc|power\.action|released/i.test(e.type)).map((e) => e.type)).to.deep.equal([]);
  });
});
