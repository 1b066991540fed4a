import type { Clock } from '@hafence/core';

/** What a peer agent says about its own losses (`GET /peer/status`). */
export interface PeerStatus {
  readonly host: string;
  /** Its own heartbeat writes succeed. */
  readonly storageOk: boolean;
  /** A management server reached it within its `selfFenceAfter`. */
  readonly msContactOk: boolean;
}

/** Asks every peer agent for its status; an unreachable peer is left out of the answer. */
export type PeerProbe = (signal: AbortSignal) => Promise<readonly PeerStatus[]>;

/** The verdict of one isolation evaluation. */
export type IsolationVerdict =
  | { readonly kind: 'connected'; readonly reason: string }
  | { readonly kind: 'holding'; readonly reason: string }
  | { readonly kind: 'isolated'; readonly reason: string };

/** Options of {@link IsolationMonitor}. */
export interface IsolationMonitorOptions {
  readonly clock: Clock;
  /** Isolation lasting this long triggers the self-fence (default 60 s). */
  readonly selfFenceAfterMs: number;
  readonly peers: PeerProbe;
}

/**
 * Decides when the host is **isolated** (SPEC §5.1): for `selfFenceAfter` no successful
 * heartbeat write, no authenticated management-server request, and no majority of its
 * reachable peers reporting the same loss. A shared loss (storage hiccup, dead MS) holds.
 */
export class IsolationMonitor {
  private lastWriteOkAt: number;
  private lastMsRequestAt: number;

  /** Starts counting from now: a fresh agent is not isolated before `selfFenceAfter`. */
  constructor(private readonly options: IsolationMonitorOptions) {
    this.lastWriteOkAt = options.clock.now();
    this.lastMsRequestAt = options.clock.now();
  }

  /** A heartbeat write succeeded. */
  writeSucceeded(): void {
    this.lastWriteOkAt = this.options.clock.now();
  }

  /** An authenticated management-server request arrived. */
  msRequestReceived(): void {
    this.lastMsRequestAt = this.options.clock.now();
  }

  /** Restarts both counts (after arming: a disarmed spell is not isolation). */
  reset(): void {
    this.writeSucceeded();
    this.msRequestReceived();
  }

  /** Heartbeat writes succeeded within `selfFenceAfter`. */
  get storageOk(): boolean {
    return this.options.clock.now() - this.lastWriteOkAt < this.options.selfFenceAfterMs;
  }

  /** A management server reached the agent within `selfFenceAfter`. */
  get msContactOk(): boolean {
    return this.options.clock.now() - this.lastMsRequestAt < this.options.selfFenceAfterMs;
  }

  /** This agent's own status, as served to peers. */
  status(host: string): PeerStatus {
    return { host, storageOk: this.storageOk, msContactOk: this.msContactOk };
  }

  /** Evaluates isolation; asks the peers only when both own links are lost. */
  async evaluate(signal: AbortSignal): Promise<IsolationVerdict> {
    if (this.storageOk) return { kind: 'connected', reason: 'heartbeat writes succeed' };
    if (this.msContactOk) return { kind: 'connected', reason: 'a management server reaches the agent (storage failing)' };
    const peers = await this.options.peers(signal).catch(() => [] as PeerStatus[]);
    const sharing = peers.filter((p) => !p.storageOk || !p.msContactOk).length;
    if (sharing * 2 > peers.length) {
      return { kind: 'holding', reason: `${sharing} of ${peers.length} reachable peers share the loss` };
    }
    return { kind: 'isolated', reason: `no write and no management-server request for ${this.options.selfFenceAfterMs} ms; ${sharing} of ${peers.length} reachable peers share the loss` };
  }
}
