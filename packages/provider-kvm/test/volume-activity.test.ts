import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret, systemClock } from '@hafence/core';
import {
  compareVolumePasses,
  FileVmInventory,
  FileVolumeReader,
  HostAgent,
  HttpNeighborExecutor,
  HttpVolumeDirectory,
  readVolumePass,
  sampleVolumes,
  SimulatedWatchdog,
  VirshVmInventory,
  VOLUME_MISSING,
  VOLUME_UNSUPPORTED,
  VolumeReadError,
  type VmInventory,
  type VolumeReader,
} from '@hafence/provider-kvm';
import { TestClock } from '@hafence/testkit';
import { TEST_TOKEN } from './helpers/mem-fs.js';

const signal = () => new AbortController().signal;
const never = <T>() => new Promise<T>(() => {});

describe("VM volume activity: reading a suspect's volumes (SPEC §5.1)", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hafence-volumes-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
  });

  describe('FileVolumeReader', () => {
    it('a write changes the fingerprint; no write leaves it; a missing file is "missing"', async () => {
      const reader = new FileVolumeReader({ mount: dir });
      const disk = join(dir, 'vm1.qcow2');
      await writeFile(disk, 'boot');
      const a = await reader.fingerprint(disk);
      expect(await reader.fingerprint(disk)).to.equal(a);
      await appendFile(disk, 'x');
      expect(await reader.fingerprint(disk)).to.not.equal(a);
      expect(await reader.fingerprint(join(dir, 'gone.img'))).to.equal(VOLUME_MISSING);
    });

    it("a volume outside the mount, or not a path (an RBD image), is another storage's: unsupported, never read", async () => {
      const opened: string[] = [];
      const reader = new FileVolumeReader({
        mount: dir,
        fs: {
          realpath: async (p) => p,
          attributesAfterOpen: async (p) => {
            opened.push(p);
            return { size: 1n, mtimeNs: 1n, ctimeNs: 1n, regular: true };
          },
        },
      });
      for (const v of ['/etc/passwd', `${dir}/../escape.img`, 'rbd-pool/vm1-disk', dir])
        expect(await reader.fingerprint(v), v).to.equal(VOLUME_UNSUPPORTED);
      expect(opened).to.deep.equal([]);
    });

    it('a FIFO, a folder or a link leading out of the mount is unsupported, and the open of a FIFO does not hang', async () => {
      const reader = new FileVolumeReader({ mount: dir });
      const fifo = join(dir, 'vm.fifo');
      execFileSync('mkfifo', [fifo]);
      await mkdir(join(dir, 'folder'));
      await symlink('/etc/hostname', join(dir, 'out.img'));
      await writeFile(join(dir, 'real.img'), 'x');
      await symlink(join(dir, 'real.img'), join(dir, 'in.img'));
      for (const v of ['vm.fifo', 'folder', 'out.img'])
        expect(await reader.fingerprint(join(dir, v)), v).to.equal(VOLUME_UNSUPPORTED);
      expect(await reader.fingerprint(join(dir, 'in.img')), 'a link inside the mount is read').to.match(
        /^\d+:\d+:\d+$/,
      );
    });

    it('a name with control characters is refused with a typed error', async () => {
      const reader = new FileVolumeReader({ mount: dir });
      const err = await reader.fingerprint(`${dir}/a\nb`).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(VolumeReadError).and.include({ code: 'HAF5106' });
    });

    it('an I/O error is a VolumeReadError naming the errno (never a fingerprint)', async () => {
      const reader = new FileVolumeReader({
        mount: dir,
        fs: {
          realpath: async (p) => p,
          attributesAfterOpen: async () => {
            throw Object.assign(new Error('stale'), { code: 'ESTALE' });
          },
        },
      });
      const err = await reader.fingerprint(join(dir, 'vm.img')).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(VolumeReadError);
      expect((err as VolumeReadError).detail).to.include('ESTALE');
    });

    it('hung reads stay counted: past maxOutstanding a read fails at once ("reader busy"), keeping threads for the heartbeat', async () => {
      let calls = 0;
      const reader = new FileVolumeReader({
        mount: dir,
        maxOutstanding: 2,
        fs: {
          realpath: async (p) => p,
          attributesAfterOpen: () => {
            calls++;
            return never();
          },
        },
      });
      void reader.fingerprint(join(dir, 'a')).catch(() => undefined);
      void reader.fingerprint(join(dir, 'b')).catch(() => undefined);
      const err = await reader.fingerprint(join(dir, 'c')).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as VolumeReadError).detail).to.match(/reader busy/);
      await new Promise((r) => setImmediate(r));
      expect(calls).to.equal(2);
    });
  });

  describe('passes and their comparison', () => {
    it('each read has its own timeout on the clock; the pass budget bounds the rest; failures are per volume', async () => {
      const clock = new TestClock();
      const reader: VolumeReader = { fingerprint: async (v) => (v.startsWith('/hung') ? never<string>() : `fp-${v}`) };
      const run = readVolumePass(reader, ['/a', '/hung1', '/b', '/hung2', '/c'], clock, signal(), {
        readTimeoutMs: 2_000,
        passBudgetMs: 3_000,
      });
      await clock.advance(10_000);
      const pass = await run;
      expect(pass.get('/a')).to.deep.equal({ fingerprint: 'fp-/a' });
      expect(pass.get('/hung1')).to.deep.equal({ failed: 'no answer within 2000 ms' });
      expect(pass.get('/b')).to.deep.equal({ fingerprint: 'fp-/b' });
      expect(pass.get('/hung2')).to.deep.equal({ failed: 'no answer within 2000 ms' });
      expect(pass.get('/c'))
        .to.have.property('failed')
        .that.matches(/whole budget of 3000 ms/);
    });

    it('changed, unchanged, failed and skipped volumes are told apart', () => {
      const first = new Map([
        ['/a', { fingerprint: '1' }],
        ['/b', { fingerprint: '1' }],
        ['/c', { failed: 'EIO' }],
        ['/d', { fingerprint: VOLUME_UNSUPPORTED }],
        ['/e', { fingerprint: '1' }],
      ]);
      const second = new Map([
        ['/a', { fingerprint: '2' }],
        ['/b', { fingerprint: '1' }],
        ['/c', { fingerprint: '1' }],
        ['/d', { fingerprint: VOLUME_UNSUPPORTED }],
        ['/e', { failed: 'timeout' }],
      ]);
      expect(compareVolumePasses(first, second)).to.deep.equal({
        read: 2,
        skipped: 1,
        changed: ['/a'],
        failed: [
          { volume: '/c', detail: 'EIO' },
          { volume: '/e', detail: 'timeout' },
        ],
        fingerprints: { '/a': '2', '/b': '1' }, // the second pass's, of the volumes read in both
      });
    });

    it('sampling is fair across VMs: one volume of each before a second of any, rotating by turn', () => {
      const list = [
        { vm: 'a', volume: 'a1' },
        { vm: 'a', volume: 'a2' },
        { vm: 'a', volume: 'a3' },
        { vm: 'b', volume: 'b1' },
        { vm: 'c', volume: 'c1' },
        { vm: 'c', volume: 'shared' },
        { vm: 'd', volume: 'shared' },
      ];
      expect(sampleVolumes(list, 4, 0)).to.deep.equal(['a1', 'b1', 'c1', 'shared']);
      expect(sampleVolumes(list, 3, 2)).to.deep.equal(['c1', 'shared', 'a1']);
      expect(sampleVolumes(list, 100, 0))
        .to.have.members(['a1', 'a2', 'a3', 'b1', 'c1', 'shared'])
        .and.have.length(6);
      expect(sampleVolumes([], 4, 0)).to.deep.equal([]);
    });
  });

  describe('VM inventories', () => {
    it("the file inventory lists every VM's volumes and refuses malformed content with a typed error", async () => {
      const file = join(dir, 'vms.json');
      await writeFile(
        file,
        JSON.stringify({ web: ['/mnt/pool/web.qcow2'], db: ['/mnt/pool/db.qcow2', '/mnt/pool/db-log.qcow2'] }),
      );
      expect(await new FileVmInventory(file).runningVolumes()).to.deep.equal([
        { vm: 'web', volume: '/mnt/pool/web.qcow2' },
        { vm: 'db', volume: '/mnt/pool/db.qcow2' },
        { vm: 'db', volume: '/mnt/pool/db-log.qcow2' },
      ]);
      for (const bad of ['{', '[]', '{"x": "notalist"}', '{"x": ["a\\nb"]}', '{"x": [""]}']) {
        await writeFile(file, bad);
        const err = await new FileVmInventory(file).runningVolumes().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err, bad).to.include({ code: 'HAF5107' });
      }
    });

    it('an inventory path that is a FIFO or too large is refused at once, never waited on', async () => {
      const fifo = join(dir, 'vms.fifo');
      execFileSync('mkfifo', [fifo]);
      const err = await new FileVmInventory(fifo).runningVolumes().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.include({ code: 'HAF5107' });
      expect((err as Error).message).to.match(/not a regular file/);
      const big = join(dir, 'big.json');
      await writeFile(big, `{"vm": ["${'x'.repeat(2 << 20)}"]}`);
      expect(
        await new FileVmInventory(big).runningVolumes().then(
          () => undefined,
          (e: unknown) => e,
        ),
      ).to.include({ code: 'HAF5107' });
    });

    it('the virsh inventory runs a real virsh (a stand-in script on PATH) by argv and keeps only disk sources', async () => {
      const bin = join(dir, 'bin');
      await mkdir(bin);
      const script = [
        '#!/bin/sh',
        'case "$1" in',
        '  list) printf "web\\nodd name\\n\\n" ;;',
        '  domblklist) if [ "$4" = "web" ]; then',
        '      printf " Type   Device   Target   Source\\n-----------------\\n file   disk     vda      /mnt/pool/web.qcow2\\n file   cdrom    sda      -\\n network disk vdb rbd/web-data\\n"',
        '    else printf " Type Device Target Source\\n file disk vda /mnt/pool/with space.img\\n"; fi ;;',
        'esac',
      ].join('\n');
      await writeFile(join(bin, 'virsh'), script);
      await chmod(join(bin, 'virsh'), 0o755);
      const path = process.env.PATH;
      process.env.PATH = `${bin}:${path}`;
      try {
        expect(await new VirshVmInventory().runningVolumes(signal())).to.deep.equal([
          { vm: 'web', volume: '/mnt/pool/web.qcow2' },
          { vm: 'web', volume: 'rbd/web-data' },
          { vm: 'odd name', volume: '/mnt/pool/with space.img' },
        ]);
        await writeFile(
          join(bin, 'virsh'),
          '#!/bin/sh\necho "error: failed to connect to the hypervisor" >&2\nexit 1\n',
        );
        const err = await new VirshVmInventory().runningVolumes(signal()).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).to.include({ code: 'HAF5107' });
      } finally {
        process.env.PATH = path;
      }
    });
  });

  describe('over HTTP between real agents', () => {
    const token = new Secret(TEST_TOKEN);
    let agents: HostAgent[];
    beforeEach(() => {
      agents = [];
    });
    afterEach(async () => {
      await Promise.all(agents.map((a) => a.stop()));
    });

    async function agent(id: string, vmInventory?: VmInventory): Promise<string> {
      const a = new HostAgent({
        hostId: id,
        mount: dir,
        token,
        watchdog: new SimulatedWatchdog(systemClock),
        heartbeatIntervalMs: 20,
        selfFenceAfterMs: 5_000,
        vmInventory,
      });
      agents.push(a);
      return `http://127.0.0.1:${(await a.start()).port}`;
    }

    it("the checker reads the suspect's volumes in the heartbeat's passes: a written volume is seen, an idle one is not", async () => {
      const disk = join(dir, 'h1-vm1.img');
      const idle = join(dir, 'h1-vm2.img');
      await writeFile(disk, 'x');
      await writeFile(idle, 'x');
      const urls = { h1: await agent('h1'), h2: await agent('h2') };
      await agents[0]!.stop(); // the suspect's agent is dead: only its VM writes show life
      await new Promise((r) => setTimeout(r, 50));
      const neighbors = new HttpNeighborExecutor({ agents: urls, token });
      const writer = setInterval(() => void appendFile(disk, 'w').catch(() => undefined), 10);
      try {
        const obs = await neighbors.readHeartbeat('h2', 'h1', 200, signal(), [disk, idle, '/elsewhere/x.img']);
        expect(obs.ok).to.equal(true);
        if (!obs.ok) return;
        expect(obs.second.counter).to.equal(obs.first.counter);
        expect(obs.volumes).to.deep.include({ read: 2, skipped: 1, changed: [disk], failed: [] });
        expect(Object.keys(obs.volumes!.fingerprints!).sort()).to.deep.equal([disk, idle].sort());
      } finally {
        clearInterval(writer);
      }
    });

    it("GET /volumes lists the agent's VMs; the directory keeps the last list when the agent stops answering", async () => {
      const file = join(dir, 'vms.json');
      await writeFile(file, JSON.stringify({ web: [join(dir, 'web.img')] }));
      const urls = { h1: await agent('h1', new FileVmInventory(file)), h2: await agent('h2') };
      const directory = new HttpVolumeDirectory({ agents: urls, token, replyTimeoutMs: 1_000 });
      expect(directory.volumesOf('h1')).to.equal(undefined);
      await directory.refresh('h1', signal());
      expect(directory.volumesOf('h1')).to.deep.equal([{ vm: 'web', volume: join(dir, 'web.img') }]);
      await agents[0]!.stop();
      const err = await directory.refresh('h1', signal()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.include({ code: 'HAF1003' }); // unreachable
      expect(directory.volumesOf('h1'), 'the last answer stands').to.deep.equal([
        { vm: 'web', volume: join(dir, 'web.img') },
      ]);
      // an agent without an inventory answers 503: a ProtocolError, nothing cached
      const none = await directory.refresh('h2', signal()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(none).to.include({ code: 'HAF1004' });
      expect(directory.volumesOf('h2')).to.equal(undefined);
    });

    it("a VM that migrated away is dropped from the old host's last list (a live VM elsewhere must not keep a dead host DEGRADED)", async () => {
      const [onH1, onH2] = [join(dir, 'vms-h1.json'), join(dir, 'vms-h2.json')];
      const [web, db] = [join(dir, 'web.img'), join(dir, 'db.img')];
      await writeFile(onH1, JSON.stringify({ web: [web], db: [db] }));
      await writeFile(onH2, JSON.stringify({}));
      const urls = {
        h1: await agent('h1', new FileVmInventory(onH1)),
        h2: await agent('h2', new FileVmInventory(onH2)),
      };
      const directory = new HttpVolumeDirectory({ agents: urls, token, replyTimeoutMs: 1_000 });
      await directory.refresh('h1', signal());
      await directory.refresh('h2', signal());
      await agents[0]!.stop(); // h1 dies right after `web` migrated to h2
      await writeFile(onH2, JSON.stringify({ web: [web] }));
      await directory.refresh('h2', signal());
      expect(directory.volumesOf('h1')).to.deep.equal([{ vm: 'db', volume: db }]);
      expect(directory.volumesOf('h2')).to.deep.equal([{ vm: 'web', volume: web }]);
    });
  });
});
