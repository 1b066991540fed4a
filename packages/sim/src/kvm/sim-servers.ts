import type { HaEvent, StateStore } from '@hafence/core';
import { InvalidRequestError } from '@hafence/core';
import { buildServer, populate, type ServerParts, type ServerPieces } from './sim-server-parts.js';
import { SimServerBmc, type SimBmcCommand } from './sim-server-bmc.js';
import { simServerStore, type SimServerStore, type SimStoreLink } from './sim-server-store.js';

/** One simulated management server: its current run (if running) and how it reaches the store. */
export interface SimServer {
  readonly msId: string;
  /** Runs started so far (the current run's id is `${msId}-r${runs}`). */
  runs: number;
  link: SimStoreLink;
  /** The current (or last) run's pieces. */
  pieces: ServerPieces;
  running: boolean;
  /** The current run's event subscription (cut at a crash: a dead server says nothing). */
  events?: { unsubscribe(): void };
}

/**
 * Several management servers `ms1..msN` over one shared store and one simulated cluster
 * (docs/behaviour.md#several-servers): each its own engine, power service and provider, each talking to the same
 * simulated BMCs; the scenario faults `ms-crash`, `ms-start`, `ms-isolate` and `ms-rejoin`.
 */
export class SimServers {
  /** Every chassis command the BMCs received, with the server that sent it, in order. */
  readonly bmcCommands: SimBmcCommand[] = [];
  private readonly servers: SimServer[] = [];
  private sync = true;

  /** Builds `count` servers (not started) over `shared`; their events go to `onEvent` tagged with `ms`. */
  constructor(
    private readonly parts: ServerParts,
    count: number,
    private readonly shared: StateStore,
    private readonly onEvent: (e: HaEvent) => void,
  ) {
    if (!isCoordination(shared)) throw new InvalidRequestError('several servers need a store with leases');
    for (let i = 1; i <= count; i++) {
      const server: SimServer = { msId: `ms${i}`, runs: 0, link: 'up', running: false } as SimServer;
      this.servers.push(server);
      server.pieces = this.build(server);
    }
  }

  /** Starts every server, in order. */
  async startAll(sync: boolean): Promise<void> {
    this.sync = sync;
    for (const s of this.servers) await this.run(s);
  }

  /** Every server, ms1 first. */
  list(): readonly SimServer[] {
    return this.servers;
  }

  /** Server `msId`. */
  get(msId: string): SimServer {
    const s = this.servers.find((x) => x.msId === msId);
    if (!s) throw new InvalidRequestError(`no management server '${msId}'`);
    return s;
  }

  /** The first running server (or ms1). */
  first(): ServerPieces {
    return (this.servers.find((s) => s.running) ?? this.servers[0]!).pieces;
  }

  /** `ms-crash`: the engine stops dead — no release, no renewal, nothing more written or sent. */
  async crash(msId: string): Promise<void> {
    const s = this.get(msId);
    if (!s.running) return;
    s.running = false;
    s.link = 'dead';
    s.events?.unsubscribe();
    s.pieces.power.stopSync();
    await s.pieces.service.stop({ releaseLeases: false, closeStore: false });
    await s.pieces.power.close();
  }

  /** `ms-start`: a fresh run (new `runId`) of a stopped server. */
  async start(msId: string): Promise<void> {
    const s = this.get(msId);
    if (s.running) return;
    s.link = 'up';
    s.pieces = this.build(s);
    await this.run(s);
  }

  /** `ms-isolate` / `ms-rejoin`: the server's store calls fail (it still reaches BMCs and agents). */
  isolate(msId: string, isolated: boolean): void {
    const s = this.get(msId);
    if (s.link !== 'dead') s.link = isolated ? 'isolated' : 'up';
  }

  /** The HA switch of a partition, on every running server (it is the operator's, in the shared database). */
  async setHaEnabled(partition: string, enabled: boolean): Promise<void> {
    for (const s of this.servers) if (s.running) await s.pieces.service.setHaEnabled(partition, enabled);
  }

  /** Stops every running server cleanly. */
  async close(): Promise<void> {
    for (const s of this.servers) {
      if (!s.running) continue;
      s.running = false;
      s.pieces.power.stopSync();
      await s.pieces.service.stop();
      await s.pieces.power.close();
      await s.pieces.provider.shutdown?.();
    }
  }

  private build(s: SimServer): ServerPieces {
    s.runs += 1;
    const store = simServerStore(this.shared as SimServerStore, s.msId, () => s.link);
    const driver = new SimServerBmc(this.parts.sim.bmc, s.msId, this.parts.clock, this.bmcCommands);
    const pieces = buildServer(this.parts, {
      store,
      driver,
      ownership: { coordination: store, msId: s.msId, runId: `${s.msId}-r${s.runs}` },
    });
    s.events = pieces.service.events$.subscribe((e) => this.onEvent(Object.assign({}, e, { ms: s.msId })));
    return pieces;
  }

  private async run(s: SimServer): Promise<void> {
    s.running = true;
    await s.pieces.service.start();
    await populate(s.pieces.service, s.pieces.provider, this.parts.sim, this.parts.clusters);
    if (this.sync) s.pieces.power.startSync();
  }
}

function isCoordination(store: StateStore): store is SimServerStore {
  return typeof (store as Partial<SimServerStore>).acquireLease === 'function';
}
