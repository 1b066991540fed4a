import type { Clock } from '@hafence/core';
import { isLocalResourceError } from './agent-errors.js';

/** What a peer agent says about its own losses (`GET /peer/status`). */
export interface PeerStatus {
  readonly host: string;
  /** Its own heartbeat writes succeed. */
  readonly storageOk: boolean;
  /** A management server reached it within its `selfFenceAfter`. */
  readonly msContactOk: boolean;
}

/**
 * A peer that did not answer with its status: `network` when the request failed on the
 * way (refused, timed out, unreachable, refused our token), `local` when it could not
 * even be sent for lack of this host's own resources (`EMFILE`…): no evidence at all.
 */
export interface PeerFailure {
  readonly host: string;
  readonly failure: 'network' | 'local';
  readonly errno: string;
}

/** One configured peer's answer to the probe. */
export type PeerAnswer = PeerStatus | PeerFailure;

/** Asks every configured peer agent for its status: one answer per peer. */
export type PeerProbe = (signal: AbortSignal) => Promise<readonly PeerAnswer[]>;

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
 * Decides when the host is **isolated** (docs/behaviour.md#kvm-hosts): for `selfFenceAfter` no successful
 * heartbeat write, no authenticated management-server request, and no majority of its
 * reachable peers reporting the same loss. A shared loss (storage hiccup, dead MS) holds.
 *
 * Isolation needs positive evidence, never the mere absence of success: a heartbeat
 * write that failed within `selfFenceAfter` with a local resource error (`EMFILE`,
 * `ENFILE`, `ENOMEM`, `ENOSPC`), or a peer that could not be asked for the same reason,
 * holds. With peers configured, every one must have been tried and answered or failed on
 * the network. With **no peers configured** (a deliberate single-host setup) the storage
 * and management-server evidence alone decides — the management server's lease proof
 * has no peer condition to check either, so holding would break the lease.
 */
export class IsolationMonitor {
  private lastWriteOkAt: number;
  private lastMsRequestAt: number;
  private lastLocalError: { readonly at: number; readonly errno: string } | undefined;

  /** Starts counting from now: a fresh agent is not isolated before `selfFenceAfter`. */
  constructor(private readonly options: IsolationMonitorOptions) {
    this.lastWriteOkAt = options.clock.now();
    this.lastMsRequestAt = options.clock.now();
  }

  /** A heartbeat write succeeded. */
  writeSucceeded(): void {
    this.lastWriteOkAt = this.options.clock.now();
  }

  /** A heartbeat write failed with `errno`; a local resource error is remembered as no evidence. */
  writeFailed(errno: string): void {
    if (isLocalResourceError(errno)) this.lastLocalError = { at: this.options.clock.now(), errno };
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
    const now = this.options.clock.now();
    if (this.storageOk) return { kind: 'connected', reason: 'heartbeat writes succeed' };
    if (this.msContactOk)
      return { kind: 'connected', reason: 'a management server reaches the agent (storage failing)' };
    const local = this.lastLocalError;
    if (local && now - local.at < this.options.selfFenceAfterMs) {
      return {
        kind: 'holding',
        reason: `heartbeat writes fail with a local resource error (${local.errno}): not isolation`,
      };
    }
    const lost = `no heartbeat write and no management-server request for ${this.options.selfFenceAfterMs} ms`;
    let answers: readonly PeerAnswer[];
    try {
      answers = await this.options.peers(signal);
    } catch (err) {
      return { kind: 'holding', reason: `the peers could not be asked (${String(err)}): no evidence` };
    }
    if (answers.length === 0) return { kind: 'isolated', reason: `${lost}; no peers configured` };
    const unasked = answers.filter((a): a is PeerFailure => 'failure' in a && a.failure === 'local');
    if (unasked.length > 0) {
      return {
        kind: 'holding',
        reason: `${unasked.length} of ${answers.length} peers could not be asked (${unasked[0]!.errno}, a local error): no evidence`,
      };
    }
    const reached = answers.filter((a): a is PeerStatus => !('failure' in a));
    const sharing = reached.filter((p) => !p.storageOk || !p.msContactOk).length;
    if (sharing * 2 > reached.length) {
      return { kind: 'holding', reason: `${sharing} of ${reached.length} reachable peers share the loss` };
    }
    return {
      kind: 'isolated',
      reason: `${lost}; ${answers.length - reached.length} of ${answers.length} peers unreachable, ${sharing} of ${reached.length} reachable share the loss`,
    };
  }
}
