import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeHeartbeat, heartbeatPath, readHeartbeatTwice, nodeHeartbeatReadFs } from '@hafence/provider-kvm';
import { systemClock } from '@hafence/core';
import { TestClock } from '@hafence/testkit';

describe('heartbeat reader (checker side)', () => {
  let mount: string;
  const clock = new TestClock();
  const signal = new AbortController().signal;
  beforeEach(async () => {
    mount = await mkdtemp(join(tmpdir(), 'hafence-read-'));
    await mkdir(join(mount, 'hafence'));
  });
  afterEach(async () => rm(mount, { recursive: true, force: true }));

  it('tells a missing heartbeat, an unreadable mount and a corrupt record apart', async () => {
    const path = heartbeatPath(mount, 'h1');
    expect(await readHeartbeatTwice(path, 0, clock, signal)).to.deep.include({ ok: false, reason: 'no-heartbeat' });
    const broken = {
      ...nodeHeartbeatReadFs,
      readdir: async () => {
        throw Object.assign(new Error('io'), { code: 'EIO' });
      },
    };
    expect(await readHeartbeatTwice(path, 0, clock, signal, broken)).to.deep.include({
      ok: false,
      reason: 'mount-unreadable',
    });
    await writeFile(path, '{"counter": 3, "armed"');
    expect(await readHeartbeatTwice(path, 0, clock, signal)).to.deep.include({ ok: false, reason: 'error' });
  });

  it('reads the content twice (fresh opens), so a rewrite between the reads is seen', async () => {
    const path = heartbeatPath(mount, 'h1');
    const record = { counter: 1, armed: true, selfFenceAfter: 60_000, watchdog: 'softdog' as const };
    await writeFile(path, encodeHeartbeat(record));
    let reads = 0;
    const fs = {
      ...nodeHeartbeatReadFs,
      readFile: async (p: string) => {
        if (reads++ === 1) await writeFile(path, encodeHeartbeat({ ...record, counter: 2 }));
        return nodeHeartbeatReadFs.readFile(p);
      },
    };
    const obs = await readHeartbeatTwice(path, 0, systemClock, signal, fs);
    expect(obs.ok && [obs.first.counter, obs.second.counter]).to.deep.equal([1, 2]);
  });
});
