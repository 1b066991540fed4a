import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

/** Receives the datagrams one peer sends to the shared socket. */
export type DatagramHandler = (msg: Buffer) => void;

/** What a {@link UdpEndpoint} needs from the outside world (a seam for tests). */
export interface UdpEndpointOptions {
  /** Local address to bind (default: any). */
  readonly bindAddress?: string;
}

const key = (address: string, port: number) => `${address}|${port}`;

/**
 * One UDP socket per address family shared by every BMC the process talks to, like
 * FreeIPMI's ipmipower: a single event loop, datagrams routed to the owning link by
 * the peer's address and port.
 */
export class UdpEndpoint {
  readonly #sockets = new Map<'udp4' | 'udp6', Promise<Socket>>();
  readonly #routes = new Map<string, Set<DatagramHandler>>();
  readonly #bindAddress?: string;

  /** Creates an endpoint; sockets open lazily on first use. */
  constructor(options: UdpEndpointOptions = {}) {
    this.#bindAddress = options.bindAddress;
  }

  /**
   * Routes datagrams from `address:port` to `handler` (several handlers may share a
   * peer, e.g. two accounts on one BMC; each ignores what is not its own). Returns the
   * unroute function.
   */
  route(address: string, port: number, handler: DatagramHandler): () => void {
    const k = key(address, port);
    let set = this.#routes.get(k);
    if (!set) this.#routes.set(k, (set = new Set()));
    set.add(handler);
    return () => {
      set.delete(handler);
      if (set.size === 0 && this.#routes.get(k) === set) this.#routes.delete(k);
    };
  }

  /** Sends one datagram; resolves once the kernel accepted it. */
  async send(buf: Buffer, address: string, port: number): Promise<void> {
    const socket = await this.#socket(isIPv6(address) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.send(buf, port, address, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Closes every socket. Further sends reopen them. */
  async close(): Promise<void> {
    const sockets = [...this.#sockets.values()];
    this.#sockets.clear();
    await Promise.all(
      sockets.map(async (p) => {
        const s = await p.catch(() => undefined);
        if (s) await new Promise<void>((r) => s.close(() => r()));
      }),
    );
  }

  #socket(type: 'udp4' | 'udp6'): Promise<Socket> {
    let p = this.#sockets.get(type);
    if (!p) {
      p = new Promise<Socket>((resolve, reject) => {
        const s = createSocket({ type });
        s.on('message', (msg, rinfo) => {
          const set = this.#routes.get(key(rinfo.address, rinfo.port));
          if (set) for (const h of set) h(msg);
        });
        s.once('error', reject);
        s.bind({ port: 0, address: this.#bindAddress }, () => {
          s.removeListener('error', reject);
          s.on('error', () => {
            /* ICMP errors on an unconnected socket: the retransmit timer handles loss */
          });
          s.unref();
          resolve(s);
        });
      });
      this.#sockets.set(type, p);
    }
    return p;
  }
}
