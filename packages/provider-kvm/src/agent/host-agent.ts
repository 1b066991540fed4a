import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import {
  delay,
  noopLogger,
  raceAbort,
  systemClock,
  type Clock,
  type Logger,
  type Secret,
  type TimerHandle,
} from '@hafence/core';
import type { AgentHealth, HeartbeatRecord } from '../ports.js';
import { agentRequest, type AgentClientTls } from '../standalone/agent-client.js';
import {
  AgentConfigError,
  ArmRefusedError,
  errnoInChain,
  errnoOf,
  HeartbeatWriteError,
  isLocalResourceError,
} from './agent-errors.js';
import { AgentReads } from './agent-reads.js';
import { createAgentServer, tokenMatches, type AgentServerTls, type ArmOutcome } from './agent-server.js';
import { connectionLimits, readNofileSoftLimit } from './descriptor-budget.js';
import type { ConnectionLimits } from '@hafence/core/internal';
import { DEFAULT_HEARTBEAT_DIR, heartbeatPath } from './heartbeat-file.js';
import { nodeHeartbeatReadFs, type HeartbeatReadFsLike } from './heartbeat-reader.js';
import { HeartbeatWriter, type HeartbeatFsLike } from './heartbeat-writer.js';
import {
  IsolationMonitor,
  type IsolationVerdict,
  type PeerAnswer,
  type PeerProbe,
  type PeerStatus,
} from './self-fence.js';
import type { VmInventory } from './vm-inventory.js';
import type { VolumePassLimits } from './volume-activity.js';
import type { VolumeReader } from './volume-reader.js';
import type { Watchdog } from './watchdog.js';

/** Longest wait of {@link HostAgent.stop} for a heartbeat write in progress. */
const STOP_WRITE_WAIT_MS = 2_000;

/** Options of {@link HostAgent} (`hafence agent`). */
export interface HostAgentOptions {
  readonly hostId: string;
  /** The shared (NFS) mount; heartbeats live in `<mount>/<dir>/hb-<hostId>`. */
  readonly mount: string;
  /** Folder inside the mount (default `hafence`). */
  readonly dir?: string;
  /** Where the management server listens (default `127.0.0.1`, port 0 = any). */
  readonly listen?: { readonly host?: string; readonly port?: number };
  /** Bearer token of the management server (and of peer agents without `peerToken`; read from a file by the CLI). */
  readonly token: Secret;
  /**
   * Bearer token of the peer agents, accepted only on `GET /peer/status`, `POST /peer-reach`
   * and `POST /read-heartbeat`, and sent to peers. Without it `token` serves both (a
   * warning is logged at start: then peers can arm and disarm each other).
   */
  readonly peerToken?: Secret;
  /** Serve HTTPS with this certificate (optionally requiring client certificates). */
  readonly tls?: AgentServerTls;
  /** TLS of requests to `https://` peers: the CA that verifies them, the certificate presented. */
  readonly peerTls?: AgentClientTls;
  readonly watchdog: Watchdog;
  /** Peer agents of the cluster: host id → base URL. */
  readonly peers?: Readonly<Record<string, string>>;
  /** Heartbeat write and watchdog feed interval (default 10 s). */
  readonly heartbeatIntervalMs?: number;
  /** Isolation lasting this long triggers the self-fence (default 60 s). */
  readonly selfFenceAfterMs?: number;
  /** Start armed (HA enabled for the host); default false until told. */
  readonly armed?: boolean;
  /** Best-effort stop of the host's VMs before the watchdog is starved. */
  readonly stopVms?: (signal: AbortSignal) => Promise<void>;
  /** Longest wait for `stopVms` (default 5 s); the lease margin must cover it plus the watchdog timeout. */
  readonly stopVmsGraceMs?: number;
  /**
   * Open connections served at once. Default: the soft descriptor limit minus a reserve
   * kept for the heartbeat (64), at most 256; a larger value is refused.
   */
  readonly maxConnections?: number;
  /** Open connections from one source address (default 16). */
  readonly maxConnectionsPerAddress?: number;
  /** Test seam: the soft `RLIMIT_NOFILE` (default: read from `/proc/self/limits`). */
  readonly nofileSoftLimit?: number;
  /** Reply timeout of requests to peer agents (default 3 s). */
  readonly peerTimeoutMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Test seam: how peers are asked (default: `GET /peer/status` on every peer). */
  readonly peerProbe?: PeerProbe;
  /**
   * The VMs running on this host and their volumes (`GET /volumes`; e.g.
   * `VirshVmInventory`). Without one the agent answers that it cannot tell.
   */
  readonly vmInventory?: VmInventory;
  /** Reads neighbours' VM volumes in activity checks (default: files on the mount, {@link FileVolumeReader}). */
  readonly volumeReader?: VolumeReader;
  /** Bounds of each pass over a suspect's volumes (default 2 s per read, 4 s per pass). */
  readonly volumePassLimits?: VolumePassLimits;
  /** Test seams: heartbeat writes and reads. */
  readonly fs?: HeartbeatFsLike;
  readonly readFs?: HeartbeatReadFsLike;
}

/** A snapshot of the agent, for tests and the health answer. */
export interface HostAgentStatus {
  readonly armed: boolean;
  /** The `armGen` of the last arm/disarm applied (0: none yet). */
  readonly armGen: number;
  readonly haEnabled: boolean;
  readonly selfFenced: boolean;
  readonly storageOk: boolean;
  readonly lastRecord?: HeartbeatRecord;
  readonly lastWriteError?: string;
  readonly lastVerdict?: IsolationVerdict;
  /** Connections dropped by the caps since start. */
  readonly shedConnections: number;
}

/**
 * The hafence host agent (docs/behaviour.md#kvm-hosts): writes the heartbeat every interval, serves the
 * management server, holds the watchdog open while armed, and self-fences only when
 * isolated — a best-effort stop of the VMs, then the watchdog is no longer fed.
 * Disarmed (HA disabled), it holds no watchdog and never self-fences; it keeps writing
 * its (unarmed) heartbeat, since that is what proves it alive to activity checks. It is
 * armed by a management server (`POST /arm`) or by a flag file on the mount.
 *
 * Every arm/disarm carries an `armGen` (docs/behaviour.md#several-management-servers): the agent refuses one lower than
 * the last it applied ({@link ArmRefusedError}) and echoes the applied one in every heartbeat and health answer, so the
 * management server knows which of its decisions a heartbeat reflects. A request or flag without a gen (an older
 * server, a hand-written flag) is applied as the next gen after the applied one: a gen no management server recorded,
 * so no lease is proven on it until a server arms the host with its own, higher gen.
 */
export class HostAgent {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly writer: HeartbeatWriter;
  private readonly monitor: IsolationMonitor;
  private readonly interval: number;
  private readonly selfFenceAfter: number;
  private server: Server | undefined;
  private timer: TimerHandle | undefined;
  private haEnabled = false;
  private armed = false;
  private armGen = 0;
  private selfFencing = false;
  private selfFenced = false;
  private writing = false;
  private evaluating = false;
  private lastRecord: HeartbeatRecord | undefined;
  private lastWriteError: string | undefined;
  private lastVerdict: IsolationVerdict | undefined;
  private lastFlag: string | undefined;
  private lastWriteLocal = false;
  private readonly limits: ConnectionLimits;
  private readonly reads: AgentReads;
  private inFlightWrite: Promise<void> | undefined;
  private shed = 0;
  private shedLogged = 0;

  /** Validates the options; nothing runs before {@link start}. */
  constructor(private readonly options: HostAgentOptions) {
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? noopLogger;
    this.interval = positive('heartbeatIntervalMs', options.heartbeatIntervalMs ?? 10_000);
    this.selfFenceAfter = positive('selfFenceAfterMs', options.selfFenceAfterMs ?? 60_000);
    if (this.selfFenceAfter < 2 * this.interval)
      throw new AgentConfigError('selfFenceAfterMs', 'must be at least 2 × heartbeatIntervalMs');
    if (options.peerToken && tokenMatches(options.peerToken.reveal(), options.token))
      throw new AgentConfigError(
        'peerToken',
        'must differ from the management-server token (one token defeats the split)',
      );
    this.limits = connectionLimits(
      options.nofileSoftLimit ?? readNofileSoftLimit(),
      options.maxConnections,
      options.maxConnectionsPerAddress,
    );
    this.reads = new AgentReads({ ...options, clock: this.clock });
    this.writer = new HeartbeatWriter({
      mount: options.mount,
      hostId: options.hostId,
      dir: options.dir,
      fs: options.fs,
    });
    this.monitor = new IsolationMonitor({
      clock: this.clock,
      selfFenceAfterMs: this.selfFenceAfter,
      peers: options.peerProbe ?? ((s) => this.probePeers(s)),
    });
  }

  /** Starts the management server and the heartbeat loop; resolves to the bound address. */
  async start(): Promise<AddressInfo> {
    if (this.options.armed) await this.arm(true);
    if (!this.options.peerToken)
      this.log.warn(
        'no peer token: peers share the management-server token and can arm/disarm each other (give a separate peer token)',
        { host: this.options.hostId },
      );
    const server = createAgentServer(
      this.options.token,
      {
        msRequest: () => this.monitor.msRequestReceived(),
        health: () => this.health(),
        readHeartbeat: (suspect, windowMs, signal, volumes) =>
          this.reads.readHeartbeat(suspect, windowMs, signal, volumes),
        volumes: (signal) => this.reads.listVolumes(signal),
        arm: async (armed, armGen) => this.armOutcome(await this.arm(armed, armGen)),
        peerReach: (suspect, signal) => this.peerReach(suspect, signal),
        peerStatus: () => this.monitor.status(this.options.hostId),
      },
      {
        limits: this.limits,
        logger: this.log,
        clock: this.clock,
        onShed: () => {
          this.shed++;
        },
        peerToken: this.options.peerToken,
        tls: this.options.tls,
      },
    );
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.listen?.port ?? 0, this.options.listen?.host ?? '127.0.0.1', () => resolve());
    });
    this.tick();
    return server.address() as AddressInfo;
  }

  /**
   * Stops the loop and the server, then waits (at most 2 s) for a heartbeat write in
   * progress to land. A held watchdog stays armed unless HA was disabled.
   */
  async stop(): Promise<void> {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections(); // a stopping agent does not wait for idle or flooding clients
    await closed;
    await this.settleWrite();
  }

  /**
   * Waits for a heartbeat write in progress, at most {@link STOP_WRITE_WAIT_MS} (a hung mount must not hang the stop).
   */
  private async settleWrite(): Promise<void> {
    const write = this.inFlightWrite;
    if (!write) return;
    let timer: TimerHandle | undefined;
    await Promise.race([
      write,
      new Promise<void>((resolve) => {
        timer = this.clock.setTimeout(resolve, STOP_WRITE_WAIT_MS);
      }),
    ]);
    if (timer !== undefined) this.clock.clearTimeout(timer);
  }

  /**
   * Enables or disables HA for this host: opens (arms) or magic-closes the watchdog.
   * `armGen` orders the requests: one lower than the applied gen, or equal to it with the
   * other decision, is refused with {@link ArmRefusedError}; without one, the next gen is
   * taken. Resolves to the applied gen; a watchdog that cannot be opened leaves the
   * request unapplied (it rejects).
   */
  async arm(enabled: boolean, armGen?: number): Promise<number> {
    if (this.selfFencing) return this.armGen; // a self-fence is never undone by software
    const gen = armGen ?? this.armGen + 1;
    if (gen < this.armGen || (gen === this.armGen && enabled !== this.haEnabled))
      throw new ArmRefusedError(gen, this.armGen);
    const previous = this.armGen;
    this.armGen = gen;
    this.haEnabled = enabled;
    if (enabled && !this.armed) {
      if (this.options.watchdog.kind === 'none') {
        this.log.warn('HA enabled but no watchdog: the lease stays unarmed', { host: this.options.hostId });
        return gen;
      }
      try {
        await this.options.watchdog.open();
      } catch (err) {
        // Not applied: the gen is not echoed, so the management server sends it again.
        [this.armGen, this.haEnabled] = [previous, false];
        throw err;
      }
      this.armed = true;
      this.monitor.reset(); // a disarmed spell is not isolation
      this.log.info('armed', { host: this.options.hostId, watchdog: this.options.watchdog.kind });
    } else if (!enabled && this.armed) {
      this.armed = false;
      await this.options.watchdog.close();
      this.log.info('disarmed: HA disabled for the host', { host: this.options.hostId });
    }
    return gen;
  }

  /** What `POST /arm` answers: whether a watchdog is really held, not what was asked. */
  private armOutcome(armGen: number): ArmOutcome {
    return {
      armGen,
      armed: this.armed,
      haEnabled: this.haEnabled,
      watchdog: this.armed ? this.options.watchdog.kind : 'none',
    };
  }

  /** A snapshot of the agent's state. */
  status(): HostAgentStatus {
    return {
      armed: this.armed,
      armGen: this.armGen,
      haEnabled: this.haEnabled,
      selfFenced: this.selfFenced,
      storageOk: this.lastWriteError === undefined,
      lastRecord: this.lastRecord,
      lastWriteError: this.lastWriteError,
      lastVerdict: this.lastVerdict,
      shedConnections: this.shed,
    };
  }

  /**
   * One beat: feed the watchdog, write the heartbeat, apply the HA flag, evaluate isolation.
   * Each step runs in the background and its failure is logged: nothing a beat starts may
   * reject unhandled (that would kill the agent and, with it, the watchdog feeding).
   */
  private tick(): void {
    this.timer = this.clock.setTimeout(() => this.tick(), this.interval);
    const host = this.options.hostId;
    if (this.shed > this.shedLogged) {
      this.log.warn('connections dropped by the caps (a flood is not isolation)', {
        host,
        dropped: this.shed - this.shedLogged,
        ...this.limits,
      });
      this.shedLogged = this.shed;
    }
    this.beat().catch((err: unknown) => this.log.error('heartbeat beat failed', { host, error: String(err) }));
  }

  private async beat(): Promise<void> {
    const host = this.options.hostId;
    if (this.armed && !this.selfFenced)
      await this.options.watchdog
        .feed()
        .catch((err: unknown) => this.log.error('watchdog feed failed', { host, errno: errnoOf(err) }));
    if (!this.writing)
      this.inFlightWrite = this.writeHeartbeat().catch((err: unknown) =>
        this.log.error('heartbeat write failed', { host, error: String(err) }),
      );
    this.checkArmFlag().catch((err: unknown) =>
      this.log.error('applying the HA flag failed', { host, errno: errnoOf(err), error: String(err) }),
    );
    if (this.armed && !this.selfFencing && !this.evaluating) {
      this.evaluate().catch((err: unknown) =>
        this.log.error('isolation evaluation failed', { host, error: String(err) }),
      );
    }
  }

  private async writeHeartbeat(): Promise<void> {
    this.writing = true;
    try {
      this.lastRecord = await this.writer.write({
        armed: this.armed,
        selfFenceAfter: this.selfFenceAfter,
        watchdog: this.armed ? this.options.watchdog.kind : 'none',
        resetMarginMs: this.resetMarginMs(),
        armGen: this.armGen,
      });
      this.lastWriteError = undefined;
      this.lastWriteLocal = false;
      this.monitor.writeSucceeded();
    } catch (err) {
      const errno = err instanceof HeartbeatWriteError ? err.errno : errnoOf(err);
      this.lastWriteError = (err as Error).message;
      this.lastWriteLocal = isLocalResourceError(errno);
      this.monitor.writeFailed(errno);
      this.log.warn(
        this.lastWriteLocal
          ? 'heartbeat write failed: local resource error, not storage loss'
          : 'heartbeat write failed',
        { host: this.options.hostId, errno, error: this.lastWriteError },
      );
    } finally {
      this.writing = false;
    }
  }

  /**
   * Worst case from `selfFenceAfter` to the reset: one interval, the peer query, the VM-stop grace, the watchdog
   * timeout.
   */
  private resetMarginMs(): number | undefined {
    const timeout = this.options.watchdog.timeoutMs;
    if (!this.armed || timeout === undefined) return undefined;
    return this.interval + (this.options.peerTimeoutMs ?? 3_000) + (this.options.stopVmsGraceMs ?? 5_000) + timeout;
  }

  /**
   * The operator's flag on the mount, `<mount>/<dir>/ha-<hostId>` holding `enabled` or
   * `disabled`, optionally followed by the `armGen` its writer recorded (`disabled 12`):
   * applied when its content changes (a management server may override it). A flag with
   * a gen lower than the applied one is refused like a request. Whoever writes a flag
   * must record it in the management server's arm records first (docs/behaviour.md#several-management-servers): a
   * hand-written `disabled` the server never recorded cannot void a lease if the host is cut off before its next
   * heartbeat shows it.
   */
  private async checkArmFlag(): Promise<void> {
    const path = heartbeatPath(
      this.options.mount,
      this.options.hostId,
      this.options.dir ?? DEFAULT_HEARTBEAT_DIR,
    ).replace(/hb-([^/]+)$/, 'ha-$1');
    const text = await (this.options.readFs ?? nodeHeartbeatReadFs).readFile(path).then(
      (t) => t.trim().toLowerCase(),
      () => undefined,
    );
    if (text === undefined || text === this.lastFlag) return;
    this.lastFlag = text;
    const flag = /^(enabled|disabled)(?:\s+(\d{1,15}))?$/.exec(text);
    if (!flag) {
      this.log.warn(`ignoring ${path}: expected "enabled" or "disabled", optionally followed by an armGen`, {
        host: this.options.hostId,
      });
      return;
    }
    try {
      await this.arm(flag[1] === 'enabled', flag[2] === undefined ? undefined : Number(flag[2]));
    } catch (err) {
      // A stale flag (a lower armGen) is refused once; anything else is tried again next beat.
      if (err instanceof ArmRefusedError) {
        this.log.warn(`ignoring ${path}: ${err.message}`, { host: this.options.hostId });
        return;
      }
      this.lastFlag = undefined;
      throw err;
    }
  }

  private async evaluate(): Promise<void> {
    this.evaluating = true;
    try {
      const signal = new AbortController().signal;
      const verdict = await this.monitor.evaluate(signal);
      if (verdict.kind !== this.lastVerdict?.kind)
        this.log.warn(`isolation: ${verdict.kind}`, { host: this.options.hostId, reason: verdict.reason });
      this.lastVerdict = verdict;
      if (verdict.kind === 'isolated' && this.armed) await this.selfFence(verdict.reason);
    } finally {
      this.evaluating = false;
    }
  }

  /** Best-effort stop of the VMs (bounded), then the watchdog is starved: the kernel resets the host. */
  private async selfFence(reason: string): Promise<void> {
    this.selfFencing = true;
    this.log.error('isolated: self-fencing', { host: this.options.hostId, reason });
    const stop = this.options.stopVms;
    try {
      if (stop) {
        const controller = new AbortController();
        // aborted once the race is over
        const grace = delay(this.clock, this.options.stopVmsGraceMs ?? 5_000, controller.signal).catch(() => undefined);
        // a stopVms that throws instead of rejecting must not skip the self-fence either
        const stopping = Promise.resolve()
          .then(() => stop(controller.signal))
          .catch((err: unknown) => this.log.error('stopping VMs failed', { error: String(err) }));
        await Promise.race([stopping, grace]);
        controller.abort();
      }
    } finally {
      this.selfFenced = true; // never fed again; the watchdog is not closed (no magic close)
    }
  }

  private health(): AgentHealth {
    const storageOk = this.lastWriteError === undefined;
    // A host that decided to self-fence is going down: it must not look healthy meanwhile.
    if (this.selfFencing)
      return { connected: false, storageOk, heartbeat: this.lastRecord, armGen: this.armGen, detail: 'self-fencing' };
    return {
      connected: true,
      storageOk,
      heartbeat: this.lastRecord,
      armGen: this.armGen,
      detail: storageOk ? undefined : this.writeFailureDetail(),
    };
  }

  private writeFailureDetail(): string {
    return this.lastWriteLocal
      ? `heartbeat writes failing with a local resource error (not storage loss): ${this.lastWriteError}`
      : `heartbeat writes failing: ${this.lastWriteError}`;
  }

  private async peerReach(suspect: string, signal: AbortSignal): Promise<boolean | undefined> {
    const url = this.options.peers?.[suspect];
    if (!url) return undefined;
    return this.peerStatus(suspect, url, signal).then(
      () => true,
      () => false,
    );
  }

  /** Asks every configured peer; a failure says whether it was the network or this host's own resources. */
  private async probePeers(signal: AbortSignal): Promise<PeerAnswer[]> {
    const peers = Object.entries(this.options.peers ?? {}).filter(([id]) => id !== this.options.hostId);
    return Promise.all(
      peers.map(([id, url]) =>
        this.peerStatus(id, url, signal).then(
          (s): PeerAnswer => s,
          (err: unknown): PeerAnswer => {
            const errno = errnoInChain(err);
            return { host: id, failure: isLocalResourceError(errno) ? 'local' : 'network', errno };
          },
        ),
      ),
    );
  }

  private peerStatus(id: string, url: string, signal: AbortSignal): Promise<PeerStatus> {
    return raceAbort(
      agentRequest<PeerStatus>(id, url, '/peer/status', this.options.peerToken ?? this.options.token, {
        method: 'GET',
        timeoutMs: this.options.peerTimeoutMs ?? 3_000,
        clock: this.clock,
        signal,
        tls: this.options.peerTls,
      }),
      signal,
    );
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new AgentConfigError(name, 'must be a positive number of ms');
  return value;
}
