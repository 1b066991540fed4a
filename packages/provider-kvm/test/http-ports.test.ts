import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_SETTINGS,
  MemoryInventory,
  noopLogger,
  Secret,
  systemClock,
  type ProviderContext,
} from '@hafence/core';
import {
  HostAgent,
  HttpAgentConnectivity,
  HttpNeighborExecutor,
  KvmProvider,
  nodeHeartbeatReadFs,
  SimulatedWatchdog,
} from '@hafence/provider-kvm';
import { at } from './helpers/at.js';
import { TEST_TOKEN } from './helpers/mem-fs.js';

const token = new Secret(TEST_TOKEN);

/** Real agents on 127.0.0.1 sharing a real temp dir as "the NFS mount", in real (short) time. */
describe('standalone HTTP ports against real agents', () => {
  let mount: string;
  let agents: Record<string, HostAgent>;
  let urls: Record<string, string>;
  const agentOf = (id: string): HostAgent => {
    const found = agents[id];
    if (!found) throw new Error(`no agent ${id} in this test`);
    return found;
  };

  beforeEach(async () => {
    mount = await mkdtemp(join(tmpdir(), 'hafence-mount-'));
    agents = {};
    urls = {};
    const peers: Record<string, string> = {};
    for (const id of ['h1', 'h2', 'h3']) {
      const unreadable = id === 'h3';
      const agent = new HostAgent({
        hostId: id,
        mount,
        token,
        watchdog: new SimulatedWatchdog(systemClock),
        heartbeatIntervalMs: 20,
        selfFenceAfterMs: 5_000,
        peers,
        readFs: unreadable
          ? {
              ...nodeHeartbeatReadFs,
              readdir: async () => {
                throw Object.assign(new Error('stale'), { code: 'ESTALE' });
              },
            }
          : undefined,
      });
      agents[id] = agent;
      urls[id] = `http://127.0.0.1:${(await agent.start()).port}`;
      peers[id] = urls[id];
    }
    await new Promise((resolve) => setTimeout(resolve, 60));
  });
  afterEach(async () => {
    await Promise.all(Object.values(agents).map((a) => a.stop()));
    // A heartbeat write may still be landing (stop() does not wait on the mount: it may hang).
    await rm(mount, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
  });

  it('health over HTTP carries the heartbeat record; a wrong token is "not connected" without echoing it', async () => {
    const ok = await new HttpAgentConnectivity({ agents: urls, token }).health('h1', new AbortController().signal);
    expect(ok.connected).to.equal(true);
    expect(ok.heartbeat?.counter).to.be.greaterThan(0);
    const bad = await new HttpAgentConnectivity({ agents: urls, token: new Secret('wrong-token-wrong-token') }).health(
      'h1',
      new AbortController().signal,
    );
    expect(bad.connected).to.equal(false);
    expect(bad.detail)
      .to.match(/token refused/)
      .and.not.include('wrong-token');
  });

  it('arm requests over HTTP carry their armGen; the agent echoes it, and a lower one is refused (a ProtocolError)', async () => {
    const port = new HttpAgentConnectivity({ agents: urls, token });
    const signal = new AbortController().signal;
    await port.setArmed('h1', { armed: true, armGen: 3 }, signal);
    expect((await port.health('h1', signal)).armGen).to.equal(3);
    const refused = await port.setArmed('h1', { armed: false, armGen: 2 }, signal).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).to.include({ code: 'HAF1004' });
    expect(agentOf('h1').status()).to.include({ armed: true, armGen: 3 });
    let heartbeat = (await port.health('h1', signal)).heartbeat;
    for (let i = 0; i < 100 && heartbeat?.armGen !== 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      heartbeat = (await port.health('h1', signal)).heartbeat;
    }
    expect(heartbeat, 'the next heartbeat echoes it').to.include({ armed: true, armGen: 3 });
  });

  it('a neighbour reads the suspect twice a window apart; a checker that cannot read the mount says so', async () => {
    const neighbors = new HttpNeighborExecutor({ agents: urls, token });
    const signal = new AbortController().signal;
    const live = await neighbors.readHeartbeat('h2', 'h1', 100, signal);
    expect(live.ok && live.second.counter > live.first.counter).to.equal(true);
    const bad = await neighbors.readHeartbeat('h3', 'h1', 100, signal);
    expect(bad).to.deep.include({ ok: false, reason: 'mount-unreadable' });
    expect(await neighbors.readHeartbeat('h2', 'h9', 0, signal)).to.deep.include({ ok: false, reason: 'no-heartbeat' });
  });

  it('peers answer whether they reach a suspect', async () => {
    const neighbors = new HttpNeighborExecutor({ agents: urls, token });
    const signal = new AbortController().signal;
    expect(await neighbors.canReach('h2', 'h1', signal)).to.equal(true);
    await agentOf('h1').stop();
    expect(await neighbors.canReach('h2', 'h1', signal)).to.equal(false);
  });

  it('the provider over HTTP: active while the suspect writes, inactive once its heartbeat stops; the bad checker is excluded', async () => {
    const inventory = new MemoryInventory();
    inventory.putPartition({ id: 'c1', kind: 'cluster', enabled: true, haEnabled: true });
    for (const id of ['h1', 'h2', 'h3']) inventory.putResource({ ref: { type: 'host', id }, partition: 'c1' });
    const facts = { hypervisor: 'KVM', sharedPoolMounted: true, maintenance: false };
    const provider = new KvmProvider({
      agents: new HttpAgentConnectivity({ agents: urls, token }),
      neighbors: new HttpNeighborExecutor({ agents: urls, token }),
      inventory: { facts: () => facts },
      heartbeatIntervalMs: 20,
      activityWindowMs: 100,
      replyTimeoutMs: 1_000,
    });
    const alerts: string[] = [];
    provider.onAlert((a) => alerts.push(a.host));
    await provider.partitionConditions({
      partition: at(inventory.lineage('c1'), 0),
      ancestors: [],
      members: inventory.resourcesIn('c1').map((spec) => ({
        spec,
        state: spec.ref.id === 'h1' ? 'CHECKING' : 'AVAILABLE',
        eligible: true,
        healthy: true,
        inEpisode: false,
      })),
    });
    const ctx: ProviderContext = {
      signal: new AbortController().signal,
      clock: systemClock,
      logger: noopLogger,
      inventory,
      state: 'CHECKING',
      settings: DEFAULT_SETTINGS,
      sleep: async () => {},
    };
    const h1 = at(inventory.resourcesIn('c1'), 0);
    const verdicts = [(await provider.activityCheck(h1, ctx)).verdict, (await provider.activityCheck(h1, ctx)).verdict];
    expect(verdicts).to.deep.equal(['active', 'active']);
    expect(alerts).to.deep.equal(['h3']);
    await agentOf('h1').stop();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await provider.activityCheck(h1, ctx)).verdict).to.equal('inactive');
  });

  describe('reply timeout', () => {
    let silent: Server;
    // Stop accepting first, then drop open sockets: a late connection cannot keep close() waiting.
    afterEach(
      () =>
        new Promise<void>((resolve) => {
          silent.close(() => resolve());
          silent.closeAllConnections();
        }),
    );

    it('no reply within window + reply timeout is a "timeout" observation', async () => {
      silent = createServer(() => {
        /* never answers */
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const neighbors = new HttpNeighborExecutor({ agents: { h2: url }, token, replyTimeoutMs: 100 });
      const started = Date.now();
      const obs = await neighbors.readHeartbeat('h2', 'h1', 50, new AbortController().signal);
      expect(obs).to.deep.include({ ok: false, reason: 'timeout' });
      expect(Date.now() - started).to.be.within(140, 2_000);
    });
  });
});
