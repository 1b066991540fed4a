import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createPostgresStore } from '@hafence/store-typeorm';
import { TestPostgres } from '@hafence/testkit/postgres';
import { freePorts, HafenceProcess, onPowerCycle, waitFor } from './e2e-kvm-processes.js';
import { EventWatch, SharedBmc, TcpProxy, type SeenEvent } from './e2e-multi-serve-helpers.js';

const PASSWORD = 'E2e-Bmc-Pw-7341';
const TOKEN = 'e2e-agent-token-5b1f0c7d9e2a4';
const SERVERS = ['ms1', 'ms2', 'ms3'] as const;
/**
 * Rendezvous over ms1..ms3 prefers ms3 for c1 and ms1 for c2: the partitions split. Two hosts per cluster:
 * a KVM cluster needs two healthy hosts to be ACTIVE (one reads the other's heartbeat).
 */
const CLUSTERS: Record<string, readonly string[]> = { c1: ['h1', 'h2'], c2: ['h3', 'h4'] };
const HOSTS = Object.values(CLUSTERS).flat();
const clusterOf = (host: string) => Object.keys(CLUSTERS).find((c) => CLUSTERS[c]!.includes(host))!;
const STOPS = ['off', 'soft', 'cycle', 'reset'];
const LEASE_TTL = 6_000;
const LEASE_MARGIN = 2_000;
const RENEW = 1_000;
const POWER_OP_TIMEOUT = 3_000; // actBound defaults to the largest powerOpTimeout
const ACT_BOUND = POWER_OP_TIMEOUT;
/**
 * One stop per 10 s across all servers: h4 crashes 3 s after h2, so c2's owner is refused the stop c1's
 * owner took and holds it (a held stop re-checks only every 60 s; the server that takes c2 later sends it).
 */
const BUDGET = 1;
const FENCE_WINDOW = 10_000;
/** Scheduling slack of three loaded node processes on two cores, added to the bounds we measure against. */
const SLACK = 1_000;
/** How late the test may see a server's event line after the server wrote it (one poll plus pipe latency). */
const LINE_LAG = 200;

/**
 * Issue 11 on real processes: three `hafence serve` sharing one fresh PostgreSQL database (each
 * through its own TCP proxy), four `hafence agent`, and one simulated BMC per host that tells the
 * three servers apart (each server's cluster file names its own UDP port of it).
 */
describe('e2e: three hafence serve on one PostgreSQL (real processes)', function () {
  this.timeout(150_000);
  const dir = mkdtempSync(join(tmpdir(), 'hafence-e2e-ms-'));
  const tokenFile = join(dir, 'agent.token');
  const db = `hafence_e2e_ms_${process.pid}`;
  const children: HafenceProcess[] = [];
  const serves = new Map<string, HafenceProcess>();
  const agents = new Map<string, HafenceProcess>();
  const bmcs = new Map<string, SharedBmc>();
  const proxies = new Map<string, TcpProxy>();
  const urls = new Map<string, string>();
  const watches: NodeJS.Timeout[] = [];
  let pg: TestPostgres;
  let dbUrl: string;
  let watch: EventWatch;
  let killed: { server: string; at: number } | undefined;
  const cutOff = new Set<string>();

  const events = (): SeenEvent[] => watch.poll();
  const of = (type: string, extra: Record<string, unknown> = {}) =>
    events().filter((e) => e.type === type && Object.entries(extra).every(([k, v]) => e[k] === v));
  /** Partition → servers that hold it now by their own lines (acquired, not lost since, alive). */
  function holders(): Map<string, string[]> {
    const out = new Map<string, string[]>(Object.keys(CLUSTERS).map((c) => [c, []]));
    for (const c of Object.keys(CLUSTERS))
      for (const [server, p] of serves) {
        const mine = events().filter((e) => e.server === server && String(e.partition) === c);
        const last = mine.filter((e) => e.type === 'partition.acquired' || e.type === 'partition.lost').at(-1);
        if (p.alive && last?.type === 'partition.acquired') out.get(c)!.push(server);
      }
    return out;
  }
  const stateOf = (server: string, host: string) =>
    events()
      .filter((e) => e.server === server && e.type === 'resource.transition' && e.resource === host)
      .at(-1)?.to;

  function startAgent(host: string): void {
    const peers = CLUSTERS[clusterOf(host)]!.filter((h) => h !== host).flatMap((h) => [
      '--peer',
      `${h}=${urls.get(h)}`,
    ]);
    const p = new HafenceProcess(`agent ${host}`, [
      'agent',
      '--host-id',
      host,
      '--mount',
      join(dir, clusterOf(host)),
      '--listen',
      urls.get(host)!.replace('http://', ''),
      '--token-file',
      tokenFile,
      ...peers,
      '--watchdog',
      'none',
      '--stop-vms',
      'none',
      '--heartbeat-interval',
      '1s',
      '--self-fence-after',
      '30s',
    ]);
    children.push(p);
    agents.set(host, p);
  }

  function clusterYaml(server: string, storeUrl: string): string {
    const hosts = HOSTS.map(
      (h) => `  ${h}:
    cluster: ${clusterOf(h)}
    agent: { url: "${urls.get(h)}" }
    bmc: { address: 127.0.0.1, port: ${bmcs.get(h)!.port(server)}, username: admin, passwordEnv: E2E_BMC_PW, cipherSuite: 17 }`,
    );
    return `ha:
  startupGrace: 0
  powerSyncInterval: 1s
  globalMaxFencesPerWindow: ${BUDGET}
  servers: { leaseTtl: ${LEASE_TTL}ms, leaseMargin: ${LEASE_MARGIN}ms, renewInterval: ${RENEW}ms }
  defaults:
    healthCheckInterval: 1s
    healthCheckTimeout: 5s
    maxUnhealthyFraction: 0.7
    activityCheckInterval: 2s
    maxActivityCheckInterval: 4s
    activityCheckTimeout: 15s
    inactiveChecksToRecover: 2
    recoverTimeout: 40s
    recoverRetryDelay: 2s
    powerOpTimeout: ${POWER_OP_TIMEOUT}ms
    powerOffVerifyTimeout: 15s
    quietPeriod: 30s
    fenceWindow: ${FENCE_WINDOW}ms
kvm: { heartbeatInterval: 1s, activityWindow: 2s, replyTimeout: 5s, powerPoll: 250ms }
agentTokenFile: ${tokenFile}
store: { url: "${storeUrl}", passwordEnv: E2E_PG_PW }
servers: [${SERVERS.map((s) => `{ id: ${s} }`).join(', ')}]
zones: { z1: {} }
pods: { p1: { zone: z1 } }
clusters: { ${Object.keys(CLUSTERS)
      .map((c) => `${c}: { pod: p1 }`)
      .join(', ')} }
hosts:
${hosts.join('\n')}
`;
  }

  before(async () => {
    pg = await TestPostgres.connect();
    dbUrl = await pg.createDatabase(db);
    const pgUrl = new URL(dbUrl);
    writeFileSync(tokenFile, `${TOKEN}\n`);
    chmodSync(tokenFile, 0o600);
    for (const c of Object.keys(CLUSTERS)) mkdirSync(join(dir, c));
    const ports = await freePorts(HOSTS.length);
    for (const [i, h] of HOSTS.entries()) {
      urls.set(h, `http://127.0.0.1:${ports[i]}`);
      bmcs.set(h, await SharedBmc.start(SERVERS, [{ name: 'admin', password: PASSWORD, privilege: 4 }]));
    }
    for (const h of HOSTS) startAgent(h);
    watch = new EventWatch(serves);
    for (const server of SERVERS) {
      const proxy = await TcpProxy.start(pgUrl.hostname, Number(pgUrl.port || 5432));
      proxies.set(server, proxy);
      const storeUrl = `postgres://${pgUrl.username}@127.0.0.1:${proxy.port}${pgUrl.pathname}`;
      const file = join(dir, `${server}.yaml`);
      writeFileSync(file, clusterYaml(server, storeUrl));
      const p = new HafenceProcess(server, ['serve', '--config', file, '--json', '--ms-id', server], {
        E2E_BMC_PW: PASSWORD,
        E2E_PG_PW: decodeURIComponent(pgUrl.password),
        NODE_OPTIONS: `--import ${pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'wall-clock-step.js')).href}`,
      });
      children.push(p);
      serves.set(server, p);
    }
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'failed') return;
    const tail = (text: string) => text.split('\n').slice(-30).join('\n');
    for (const c of children)
      process.stderr.write(`--- ${c.name} (exit ${String(c.exitCode)}) stderr:\n${tail(c.stderr)}\n`);
    for (const [s, p] of serves)
      process.stderr.write(
        `--- ${s} stdout:\n${tail(p.stdoutLines.filter((l) => !l.includes('"status"')).join('\n'))}\n`,
      );
  });

  after(async () => {
    for (const w of watches) clearInterval(w);
    watch?.stop();
    for (const c of children) c.killGroup();
    await Promise.all(children.map((c) => c.waitExit(5_000).catch(() => undefined)));
    await Promise.all([...bmcs.values()].map((b) => b.close()));
    await Promise.all([...proxies.values()].map((p) => p.cut().catch(() => undefined)));
    await pg?.dropDatabase(db).catch(() => undefined);
    await pg?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the partitions split: every cluster has exactly one owner, more than one server owns one, all hosts AVAILABLE', async () => {
    await waitFor('every cluster owned and every host AVAILABLE at its owner', 60_000, () => {
      for (const [s, p] of serves) if (!p.alive) throw new Error(`${s} exited ${p.exitCode}: ${p.stderr}`);
      const h = holders();
      return HOSTS.every((host) => {
        const owner = h.get(clusterOf(host))!;
        return owner.length === 1 && stateOf(owner[0]!, host) === 'AVAILABLE';
      });
    });
    const acquired = of('partition.acquired');
    const owners = new Map<string, string[]>();
    for (const e of acquired) owners.set(String(e.partition), [...(owners.get(String(e.partition)) ?? []), e.server]);
    for (const c of Object.keys(CLUSTERS)) expect(owners.get(c), c).to.have.length(1);
    expect(new Set(acquired.map((e) => e.server)).size).to.be.greaterThan(1);
    process.stdout.write(`      owners: ${JSON.stringify(Object.fromEntries(owners))}\n`);
  });

  it("h2 crashes, h4 3 s later (its owner is refused the one global stop); c1's owner is kill -9'd the moment its off lands: another server takes c1 in time and finishes the recovery", async () => {
    const owner = holders().get('c1')![0]!;
    const bmc2 = bmcs.get('h2')!;
    bmc2.onCommand = (r) => {
      if (r.command === 'off' && r.server === owner && killed === undefined) {
        serves.get(owner)!.kill('SIGKILL'); // before the BMC's reply goes out
        killed = { server: owner, at: Date.now() };
      }
    };
    const crashAt = Date.now();
    agents.get('h2')!.kill('SIGKILL');
    watches.push(onPowerCycle(bmc2.chassis, () => startAgent('h2')));
    watches.push(
      setTimeout(() => {
        agents.get('h4')!.kill('SIGKILL');
        watches.push(onPowerCycle(bmcs.get('h4')!.chassis, () => startAgent('h4')));
      }, 3_000),
    );
    await waitFor(`${owner} sends off to h2`, 45_000, () => killed);
    const k = killed!;
    const taken = await waitFor('another server acquires c1', 30_000, () =>
      of('partition.acquired', { partition: 'c1' }).find((e) => e.server !== owner && e.at > k.at),
    );
    const heir = taken.server;
    await waitFor(`h2 AVAILABLE at ${heir}`, 45_000, () =>
      events().find(
        (e) => e.server === heir && e.type === 'resource.transition' && e.resource === 'h2' && e.to === 'AVAILABLE',
      ),
    );
    const available = events().find(
      (e) => e.server === heir && e.type === 'resource.transition' && e.resource === 'h2' && e.to === 'AVAILABLE',
    )!;
    const firstAction = bmc2.commands().find((r) => r.server === heir)!;
    const takeover = taken.at - k.at;
    process.stdout.write(
      `      detect→off ${k.at - crashAt} ms; kill→c1 acquired by ${heir} ${takeover} ms ` +
        `(bound leaseTtl+actBound+renew = ${LEASE_TTL + ACT_BOUND + RENEW} ms); ` +
        `kill→first command (${firstAction?.command}) ${firstAction ? firstAction.at - k.at : '-'} ms; ` +
        `kill→h2 AVAILABLE ${available.at - k.at} ms\n`,
    );
    expect(takeover).to.be.at.most(LEASE_TTL + ACT_BOUND + RENEW + SLACK);
    // The successor waited out the full lease: it never acts before leaseTtl + actBound after the last renewal.
    expect(takeover).to.be.at.least(LEASE_TTL + ACT_BOUND - RENEW);
    expect(bmc2.commands().map((r) => `${r.command}@${r.server}`)).to.deep.equal([`off@${owner}`, `on@${heir}`]);
    expect(bmc2.chassis.power).to.equal('ON');
    const released = of('workloads.released', { resource: 'h2' });
    expect(released.map((e) => e.server)).to.deep.equal([heir]);
    expect(released[0]).to.deep.include({ proof: 'power-off' });
    // The dead server's other partitions were taken too.
    await waitFor('every cluster owned by a live server', 20_000, () =>
      [...holders().values()].every((h) => h.length === 1),
    );
    // c2's owner was refused the global stop for h4 and holds it.
    const owner4 = holders().get('c2')![0]!;
    await waitFor(`${owner4} halted by the global budget`, 20_000, () =>
      of('fencing.halted', { scope: 'global', server: owner4 }).at(0),
    );
    expect(bmcs.get('h4')!.commands(), 'no stop for h4 while the budget holds it').to.deep.equal([]);
    expect(of('fencing.halted').map((e) => e.server)).to.deep.equal([owner4]);
  });

  it("c2's owner, cut off from PostgreSQL (its wall clock stepped back an hour), drops its partitions before the others take them and sends no command after; its successor sends the held stop", async () => {
    const live = SERVERS.filter((s) => serves.get(s)!.alive);
    const held = holders();
    // c2's owner holds h4's stop: its successor must send it once the window is free.
    const victim = held.get('c2')![0]!;
    expect(live).to.include(victim);
    const partitions = [...held].filter(([, h]) => h.includes(victim)).map(([c]) => c);
    expect(partitions, `${victim} holds something`).to.not.deep.equal([]);
    // Its wall clock steps back an hour: leases run on its monotonic clock (SPEC §7), so nothing changes.
    serves.get(victim)!.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 200));
    const cutAt = Date.now();
    cutOff.add(victim);
    await proxies.get(victim)!.cut();
    for (const c of partitions) {
      await waitFor(`${victim} loses ${c}`, 20_000, () =>
        of('partition.lost', { partition: c, server: victim }).find((e) => e.at > cutAt),
      );
      await waitFor(`another server takes ${c}`, 30_000, () =>
        of('partition.acquired', { partition: c }).find((e) => e.server !== victim && e.at > cutAt),
      );
    }
    for (const c of partitions) {
      const lost = of('partition.lost', { partition: c, server: victim }).find((e) => e.at > cutAt)!;
      const taken = of('partition.acquired', { partition: c }).find((e) => e.server !== victim && e.at > cutAt)!;
      process.stdout.write(
        `      ${c}: cut→lost at ${victim} ${lost.at - cutAt} ms, cut→taken by ${taken.server} ${taken.at - cutAt} ms\n`,
      );
      expect(lost.at, c).to.be.lessThan(taken.at);
      expect(lost.at - cutAt, c).to.be.at.most(LEASE_TTL - LEASE_MARGIN + SLACK);
      for (const host of CLUSTERS[c]!) {
        const after = bmcs.get(host)!.records.filter((r) => r.server === victim && r.at > lost.at);
        expect(
          after.filter((r) => r.command !== undefined),
          `${victim} → ${host} after its loss`,
        ).to.deep.equal([]);
        // Status reads go on by design: every server's power sync reads every controller (docs/behaviour.md).
        process.stdout.write(`      ${victim} → ${host} after its loss: ${after.length} status read(s), no command\n`);
      }
    }
    expect(serves.get(victim)!.alive, `${victim} keeps running without its database`).to.equal(true);
    // The successor of c2 sends h4's held stop (the window is long free) and finishes its recovery.
    const heir = of('partition.acquired', { partition: 'c2' }).find((e) => e.server !== victim && e.at > cutAt)!.server;
    await waitFor(`h4 AVAILABLE again at ${heir}`, 45_000, () => stateOf(heir, 'h4') === 'AVAILABLE' || undefined);
    expect(
      bmcs
        .get('h4')!
        .commands()
        .map((r) => `${r.command}@${r.server}`),
    ).to.deep.equal([`off@${heir}`, `on@${heir}`]);
    expect(of('workloads.released', { resource: 'h4' }).map((e) => e.server)).to.deep.equal([heir]);
  });

  it('across the run: no two servers interleave commands to a host, each sender held the partition, stops within the global budget', () => {
    let stops = 0;
    for (const host of HOSTS) {
      const cmds = bmcs.get(host)!.commands();
      stops += cmds.filter((r) => STOPS.includes(r.command!)).length;
      const senders = cmds.map((r) => r.server).filter((s, i, all) => i === 0 || all[i - 1] !== s);
      expect(new Set(senders).size, `${host}: ${senders.join(' → ')}`).to.equal(senders.length);
      for (const r of cmds) {
        const lines = events().filter(
          (e) =>
            e.server === r.server &&
            String(e.partition) === clusterOf(host) &&
            (e.type === 'partition.acquired' || e.type === 'partition.lost'),
        );
        // A line is seen up to one poll (20 ms) plus pipe latency after it was written: the acquired line
        // written before a command may be seen just after the command landed.
        const before = lines.filter((e) => e.at <= r.at + LINE_LAG).at(-1);
        expect(before?.type, `${host} ${r.command} from ${r.server}`).to.equal('partition.acquired');
        if (killed?.server === r.server) expect(r.at).to.be.at.most(killed.at);
      }
    }
    expect(stops).to.equal(2);
    // At most BUDGET stops within any FENCE_WINDOW, across all servers (the window counts from the intent's
    // record, written before the send: an arrival may be late by its own send latency, < SLACK).
    const at = HOSTS.flatMap((h) =>
      bmcs
        .get(h)!
        .commands()
        .filter((r) => STOPS.includes(r.command!)),
    )
      .map((r) => r.at)
      .sort((a, b) => a - b);
    process.stdout.write(
      `      stops ${at.length}, ${at[1]! - at[0]!} ms apart (budget ${BUDGET} per ${FENCE_WINDOW} ms)\n`,
    );
    for (let i = BUDGET; i < at.length; i++) expect(at[i]! - at[i - BUDGET]!).to.be.at.least(FENCE_WINDOW - SLACK);
  });

  it('SIGTERM: a live server exits 0 and its leases are released in the database (a taker may act at once)', async () => {
    const live = SERVERS.filter((s) => serves.get(s)!.alive);
    const owner = live.find((s) => [...holders().values()].some((h) => h.includes(s)) && !cutOff.has(s))!;
    expect(owner, 'a live server that holds a partition').to.be.a('string');
    const held = [...holders()].filter(([, h]) => h.includes(owner)).map(([c]) => c);
    serves.get(owner)!.kill('SIGTERM');
    expect(await serves.get(owner)!.waitExit(25_000)).to.equal(0);
    const u = new URL(dbUrl);
    const password = decodeURIComponent(u.password);
    u.password = '';
    const store = await createPostgresStore({ url: u.toString(), password });
    try {
      const leases = await store.listLeases();
      for (const c of held) expect(leases.find((l) => l.partition === c)?.runId, c).to.equal('');
    } finally {
      await store.close();
    }
  });

  it('SIGTERM: a server cut off from its database still exits (nothing to release there) within 25 s', async () => {
    const victim = [...cutOff][0]!;
    serves.get(victim)!.kill('SIGTERM');
    const started = Date.now();
    const code = await serves.get(victim)!.waitExit(25_000);
    process.stdout.write(`      ${victim} exited ${code} ${Date.now() - started} ms after SIGTERM\n`);
    expect(code).to.equal(0);
  });
});
