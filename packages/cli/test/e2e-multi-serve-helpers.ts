import { createSocket, type Socket } from 'node:dgram';
import { createServer, connect, type Server, type Socket as TcpSocket } from 'node:net';
import { SimBmcEngine, SimChassis } from '@hafence/sim';
import type { HafenceProcess } from './e2e-kvm-processes.js';

/** One datagram or chassis command a {@link SharedBmc} received, with the server it came from. */
export interface BmcRecord {
  /** `Date.now()` in the test process when it was handled. */
  readonly at: number;
  /** The server whose port it came in on. */
  readonly server: string;
  /** The chassis command it carried ('off', 'on', …), or undefined for any other datagram. */
  readonly command?: string;
}

/**
 * One simulated BMC (one chassis, one IPMI engine) listening on one UDP port per management server:
 * each server's cluster file names its own port, so every datagram and every chassis command is
 * attributed to its sender exactly, at the moment the chassis applies it.
 */
export class SharedBmc {
  readonly chassis: SimChassis;
  readonly engine: SimBmcEngine;
  /** Every datagram in order, chassis commands marked. */
  readonly records: BmcRecord[] = [];
  /** Called synchronously when a chassis command was applied, before the reply goes out. */
  onCommand?: (r: BmcRecord) => void;
  private readonly sockets = new Map<string, Socket>();

  private constructor(users: readonly { name: string; password: string; privilege: number }[]) {
    this.chassis = new SimChassis({ power: 'ON' });
    this.engine = new SimBmcEngine(this.chassis, { users });
  }

  /** Starts one listening port per name in `servers`. */
  static async start(
    servers: readonly string[],
    users: readonly { name: string; password: string; privilege: number }[],
  ): Promise<SharedBmc> {
    const bmc = new SharedBmc(users);
    for (const server of servers) {
      const socket = createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      socket.on('message', (msg, from) => bmc.onMessage(server, socket, msg, from.port, from.address));
      bmc.sockets.set(server, socket);
    }
    return bmc;
  }

  /** The UDP port `server` talks to. */
  port(server: string): number {
    return this.sockets.get(server)!.address().port;
  }

  /** The chassis commands only. */
  commands(): BmcRecord[] {
    return this.records.filter((r) => r.command !== undefined);
  }

  /** Stops listening and the chassis timers. */
  async close(): Promise<void> {
    this.chassis.stop();
    await Promise.all([...this.sockets.values()].map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  private onMessage(server: string, socket: Socket, msg: Buffer, port: number, address: string): void {
    const before = this.chassis.log.length;
    let replies: Buffer[];
    try {
      replies = this.engine.handle(msg);
    } catch {
      return; // malformed: the real SimBmc drops it too
    }
    const at = Date.now();
    const added = this.chassis.log.slice(before);
    if (added.length === 0) this.records.push({ at, server });
    for (const command of added) {
      const r = { at, server, command };
      this.records.push(r);
      this.onCommand?.(r);
    }
    for (const reply of replies)
      socket.send(reply, port, address, () => {
        /* a gone peer is a lost datagram */
      });
  }
}

/**
 * A TCP proxy on 127.0.0.1 in front of `target` (one server's way to PostgreSQL). {@link TcpProxy.cut}
 * destroys every open connection and refuses new ones: the server is cut off from the database.
 */
export class TcpProxy {
  private readonly open = new Set<TcpSocket>();

  private constructor(private readonly server: Server) {}

  /** Listens on an ephemeral port and forwards each connection to `host:port`. */
  static async start(host: string, port: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(
      createServer((client) => {
        const upstream = connect(port, host);
        for (const s of [client, upstream]) {
          proxy.open.add(s);
          s.on('close', () => proxy.open.delete(s));
          s.on('error', () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      }),
    );
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** The listening port. */
  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Refuses new connections and destroys the open ones. */
  async cut(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.open) s.destroy();
    await closed;
  }
}

/** One JSON event line of a server, stamped with `Date.now()` of the test process when it was seen. */
export interface SeenEvent {
  readonly at: number;
  readonly server: string;
  readonly type: string;
  readonly [k: string]: unknown;
}

/**
 * Polls the servers' stdout every 20 ms and stamps each new JSON event line with the time it was
 * seen (lines reach the test within one poll of their write, so `at` is late by at most ~20 ms plus
 * pipe latency, never early).
 */
export class EventWatch {
  readonly events: SeenEvent[] = [];
  private readonly seen = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  /** Starts watching `servers` (name → process); the map may grow while watching. */
  constructor(private readonly servers: Map<string, HafenceProcess>) {
    this.timer = setInterval(() => this.poll(), 20);
  }

  /** Reads the lines that arrived since the last poll (also called by the test before it looks). */
  poll(): SeenEvent[] {
    const at = Date.now();
    for (const [server, p] of this.servers) {
      const from = this.seen.get(server) ?? 0;
      const lines = p.stdoutLines.slice(from);
      this.seen.set(server, from + lines.length);
      for (const line of lines) {
        try {
          this.events.push({ ...(JSON.parse(line) as { type: string }), at, server });
        } catch {
          /* not an event line */
        }
      }
    }
    return this.events;
  }

  /** Stops polling. */
  stop(): void {
    clearInterval(this.timer);
  }
}
