import { expect } from 'chai';
import { chmodSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { freePorts, onPowerCycle, waitFor } from './e2e-kvm-processes.js';
import { ServeRig, type ServeEvent } from './serve-rig.js';

/*
 * Break test (issue 12): "the engine never waits for" the operator API. A host crash (its
 * agent killed) is detected and its power cut as fast while the API is flooded (idle
 * connections, slowloris header trickles, event-stream clients that never read, pages of
 * history asked again and again) as without the flood. Real processes: serve, agents, SimBmcs.
 */

const PASSWORD = 'Brk-Flood-Bmc-Pw-31';
const TOKEN = 'break-flood-agent-token-1a7c4e9b';
const ALICE = 'break-flood-api-alice-3c9e5a1f7b2d8e4a6c0f';
const HOSTS = ['h1', 'h2', 'h3'] as const;

/** Wall ms from `killedAt` to h's SUSPECT and to the power-off sent to h, from serve's event log. */
function timings(events: readonly ServeEvent[], host: string, killedAt: number): { suspect: number; off: number } {
  const after = events.filter((e) => e.t >= killedAt);
  const suspect = after.find((e) => e.type === 'resource.transition' && e.resource === host && e.to === 'SUSPECT');
  const off = after.find((e) => e.type === 'power.action' && e.host === host && e.action !== 'on');
  return { suspect: (suspect?.t ?? NaN) - killedAt, off: (off?.t ?? NaN) - killedAt };
}

describe('break: a host crash under an operator-API flood (real processes)', function () {
  this.timeout(60_000);
  let port = 0;
  let rig: ServeRig;
  const sockets: Socket[] = [];
  const watches: NodeJS.Timeout[] = [];
  let baseline = { suspect: NaN, off: NaN };

  const crash = async (host: string) => {
    const killedAt = Date.now();
    rig.agents.get(host)!.kill('SIGKILL');
    watches.push(onPowerCycle(rig.bmcs.get(host)!.chassis, () => rig.startAgent(host)));
    await waitFor(`${host}'s power cut`, 40_000, () => {
      if (!rig.serve.alive) throw new Error(`serve exited ${rig.serve.exitCode}`);
      return Number.isFinite(timings(rig.serve.json<ServeEvent>(), host, killedAt).off);
    });
    return timings(rig.serve.json<ServeEvent>(), host, killedAt);
  };

  const raw = (first?: string, read = true) =>
    new Promise<Socket>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        if (first !== undefined) s.write(first);
        if (!read) s.pause();
        resolve(s);
      });
      s.on('error', () => resolve(s));
      sockets.push(s);
    });

  before(async () => {
    [port] = (await freePorts(1)) as [number];
    rig = new ServeRig({
      name: 'break-flood',
      password: PASSWORD,
      token: TOKEN,
      hosts: HOSTS,
      serveArgs: (dir) => ['--http', `127.0.0.1:${port}`, '--http-token-file', join(dir, 'api.tokens')],
    });
    const tokens = join(rig.dir, 'api.tokens');
    writeFileSync(tokens, `alice ${ALICE}\n`);
    chmodSync(tokens, 0o600);
    await rig.start();
    await rig.allAvailable();
  });

  afterEach(function () {
    rig.dumpIfFailed(this.currentTest);
  });

  after(async () => {
    for (const w of watches) clearInterval(w);
    for (const s of sockets) s.destroy();
    await rig.close();
  });

  it('baseline: h1 crashes with the API quiet', async () => {
    baseline = await crash('h1');
    expect(baseline.suspect).to.be.below(15_000);
  });

  it('h2 crashes while 60 non-reading event-stream clients, 80 idle and 40 slowloris connections hold the API', async () => {
    const auth = `Authorization: Bearer ${ALICE}\r\n`;
    await Promise.all(
      Array.from({ length: 60 }, () =>
        raw(`GET /api/v1/events/stream HTTP/1.1\r\nHost: x\r\n${auth}Last-Event-ID: 0\r\n\r\n`, false),
      ),
    );
    await Promise.all(Array.from({ length: 80 }, () => raw()));
    const slow = await Promise.all(Array.from({ length: 40 }, () => raw('GET /api/v1/server HTTP/1.1\r\nHost: x\r\n')));
    const trickle = setInterval(() => {
      for (const s of slow) if (!s.destroyed) s.write('X-Slow: 1\r\n');
    }, 1_000);
    try {
      const flooded = await crash('h2');
      expect(flooded.suspect, `baseline ${JSON.stringify(baseline)}`).to.be.below(baseline.suspect * 1.5 + 3_000);
      expect(flooded.off, `baseline ${JSON.stringify(baseline)}`).to.be.below(baseline.off * 1.5 + 3_000);
    } finally {
      clearInterval(trickle);
    }
  });
});
