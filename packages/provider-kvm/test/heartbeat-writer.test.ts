import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeHeartbeat,
  HeartbeatWriteError,
  HeartbeatWriter,
  heartbeatPath,
  nodeHeartbeatFs,
  type HeartbeatFsLike,
} from '@hafence/provider-kvm';

const STATE = { armed: true, selfFenceAfter: 60_000, watchdog: 'simulated' as const };

describe('heartbeat writer (temp + rename)', () => {
  let mount: string;
  beforeEach(async () => {
    mount = await mkdtemp(join(tmpdir(), 'hafence-hb-'));
  });
  afterEach(async () => rm(mount, { recursive: true, force: true }));

  it('writes the record atomically into <mount>/hafence/hb-<host>, counter growing, no temp file left', async () => {
    const writer = new HeartbeatWriter({ mount, hostId: 'h1' });
    await writer.write(STATE);
    const second = await writer.write(STATE);
    expect(writer.path).to.equal(heartbeatPath(mount, 'h1'));
    const record = decodeHeartbeat(await readFile(writer.path, 'utf8'));
    expect(record).to.deep.equal({ counter: 2, ...STATE });
    expect(second.counter).to.equal(2);
    expect(await readdir(join(mount, 'hafence'))).to.deep.equal(['hb-h1']);
  });

  it('carries the armGen the agent applied; a record without one (an older agent) decodes without it', async () => {
    const writer = new HeartbeatWriter({ mount, hostId: 'h1' });
    await writer.write({ ...STATE, armGen: 7 });
    expect(decodeHeartbeat(await readFile(writer.path, 'utf8'))).to.deep.equal({ counter: 1, ...STATE, armGen: 7 });
    expect(
      decodeHeartbeat('{"counter":1,"armed":true,"selfFenceAfter":60000,"watchdog":"simulated"}'),
    ).to.not.have.property('armGen');
    expect(() =>
      decodeHeartbeat('{"counter":1,"armed":true,"selfFenceAfter":60000,"watchdog":"simulated","armGen":-1}'),
    ).to.throw(/HAF5102/);
  });

  it('a read-only mount (EROFS) is a typed HeartbeatWriteError', async () => {
    const readOnly: HeartbeatFsLike = {
      ...nodeHeartbeatFs,
      writeFile: async () => {
        throw Object.assign(new Error('read-only file system'), { code: 'EROFS' });
      },
    };
    const writer = new HeartbeatWriter({ mount, hostId: 'h1', fs: readOnly });
    const err = await writer.write(STATE).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(HeartbeatWriteError);
    expect((err as HeartbeatWriteError).errno).to.equal('EROFS');
    expect((err as HeartbeatWriteError).code).to.equal('HAF5101');
  });

  it('a full disk (ENOSPC) fails the write and leaves the previous heartbeat intact', async () => {
    let full = false;
    const disk: HeartbeatFsLike = {
      ...nodeHeartbeatFs,
      writeFile: async (path, data) => {
        if (full) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
        await nodeHeartbeatFs.writeFile(path, data);
      },
    };
    const writer = new HeartbeatWriter({ mount, hostId: 'h1', fs: disk });
    await writer.write(STATE);
    full = true;
    const err = await writer.write(STATE).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as HeartbeatWriteError).errno).to.equal('ENOSPC');
    expect(decodeHeartbeat(await readFile(writer.path, 'utf8')).counter).to.equal(1);
  });

  it('a real failure (the mount path is a file) is reported with its errno', async () => {
    const file = join(mount, 'not-a-dir');
    await writeFile(file, 'x');
    const err = await new HeartbeatWriter({ mount: file, hostId: 'h1' }).write(STATE).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(HeartbeatWriteError);
    expect((err as HeartbeatWriteError).errno).to.match(/^E[A-Z]+$/);
  });

  it('refuses host ids that could escape the heartbeat folder', () => {
    expect(() => heartbeatPath(mount, '../etc')).to.throw(/host id/);
  });
});
