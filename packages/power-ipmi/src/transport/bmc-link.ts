import { TimeoutError, UnreachableError, abortReason, type Clock } from '@hafence/core';
import { decodeDatagram, type Datagram } from '../protocol/datagram.js';
import type { PacketKeys } from '../protocol/session-crypto.js';
import { ReplayWindow } from './replay-window.js';
import type { UdpEndpoint } from './udp-endpoint.js';

/** A datagram from the BMC after decoding. */
export type Incoming = Datagram;

/** Time limits of one exchange: the overall deadline, the caller's signal, and names for errors. */
export interface Budget {
  readonly deadline: number;
  readonly signal: AbortSignal;
  readonly op: string;
  readonly timeoutMs: number;
}

/** Retransmission pacing: first wait, doubling up to a cap, always inside the deadline. */
export interface RetransmitPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** Where a link sends and who it is (for typed errors). */
export interface LinkAddress {
  readonly host: string;
  readonly address: string;
  readonly port: number;
}

/**
 * The datagram path to one BMC: exchanges (normally one at a time; a kept session's request and a re-login may
 * overlap, each matching only its own replies), retransmission
 * with exponential backoff inside the caller's deadline, integrity/decryption with the
 * current session's keys, and the inbound replay window.
 */
export class BmcLink {
  readonly #pending = new Set<(msg: Incoming) => void>();
  #keys?: { sessionId: number; keys: PacketKeys; window: ReplayWindow };
  readonly #unroute: () => void;
  /** Datagrams dropped because they did not decode (junk, bad integrity, replays). */
  dropped = 0;

  /** Opens the route for `to` on `endpoint`. */
  constructor(
    readonly to: LinkAddress,
    private readonly endpoint: UdpEndpoint,
    private readonly clock: Clock,
    private readonly retransmit: RetransmitPolicy,
  ) {
    this.#unroute = endpoint.route(to.address, to.port, (msg) => this.#onDatagram(msg));
  }

  /** Installs (or with `undefined` removes) the keys of the active session. */
  setSession(session?: { sessionId: number; keys: PacketKeys }): void {
    this.#keys = session ? { ...session, window: new ReplayWindow() } : undefined;
  }

  /** Console session ID whose keys are installed (undefined without a session). */
  get sessionId(): number | undefined {
    return this.#keys?.sessionId;
  }

  /** Stops receiving. */
  close(): void {
    this.#unroute();
  }

  /**
   * Sends `build()` and resends a freshly built packet with backoff until `match`
   * returns a value (resolve) or throws (reject), the deadline passes
   * ({@link TimeoutError}) or the signal aborts (its reason).
   */
  exchange<T>(build: () => Buffer, match: (msg: Incoming) => T | undefined, b: Budget): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (b.signal.aborted) {
        reject(abortReason(b.signal));
        return;
      }
      let rto = this.retransmit.initialMs;
      let timer: unknown;
      let done = false;
      const finish = (err: unknown, value?: T) => {
        if (done) return;
        done = true;
        this.clock.clearTimeout(timer);
        this.#pending.delete(onMessage);
        b.signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(value as T);
      };
      const onAbort = () => finish(abortReason(b.signal));
      const onMessage = (msg: Incoming) => {
        try {
          const v = match(msg);
          if (v !== undefined) finish(undefined, v);
        } catch (err) {
          finish(err);
        }
      };
      const attempt = () => {
        const left = b.deadline - this.clock.now();
        if (left <= 0) {
          finish(new TimeoutError(b.op, b.timeoutMs, this.to.host));
          return;
        }
        this.endpoint.send(build(), this.to.address, this.to.port).catch((err: NodeJS.ErrnoException) =>
          finish(
            new UnreachableError(this.to.host, `${this.to.address}:${this.to.port}`, err.code ?? 'send failed', {
              cause: err,
            }),
          ),
        );
        timer = this.clock.setTimeout(
          () => {
            rto = Math.min(rto * 2, this.retransmit.maxMs);
            attempt();
          },
          Math.min(rto, left),
        );
      };
      this.#pending.add(onMessage);
      b.signal.addEventListener('abort', onAbort, { once: true });
      attempt();
    });
  }

  #onDatagram(msg: Buffer): void {
    const incoming = this.#decode(msg);
    if (incoming) for (const fn of [...this.#pending]) fn(incoming);
    else this.dropped++;
  }

  #decode(msg: Buffer): Incoming | undefined {
    try {
      const s = this.#keys;
      const d = decodeDatagram(msg, (id) => (s && id === s.sessionId ? s.keys : undefined));
      if (d.kind === 'ipmi' && d.packet.authenticated && s && !s.window.accept(d.packet.seq)) return undefined;
      return d;
    } catch {
      // Every codec rejection is a MalformedPacketError: a forged or damaged datagram is
      // dropped like a lost one, so the retransmit timer decides, not the attacker.
      return undefined;
    }
  }
}
