import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Limits of {@link guardConnections}. */
export interface ConnectionLimits {
  /** Open connections at once, in total. */
  readonly maxConnections: number;
  /** Open connections at once from one source address. */
  readonly maxPerAddress: number;
  /**
   * What happens to a new connection from an address already at `maxPerAddress`: `refuse` (default) destroys
   * the new one; `evict-oldest-idle` closes that address's oldest connection not serving an authenticated
   * request to make room (on loopback every client shares one address: refusing would lock every local client
   * out), and refuses only when all of that address's connections are serving one.
   */
  readonly atAddressCap?: 'refuse' | 'evict-oldest-idle';
  /**
   * Close a connection that has not delivered a request within this many ms of opening (node's
   * `headersTimeout` starts only at the first byte: a connection that never sends one would stay open
   * forever). Undefined: no such limit. Between requests node's `keepAliveTimeout` applies.
   */
  readonly firstRequestTimeoutMs?: number;
}

/** What the guard knows about each open connection. */
interface Tracked {
  readonly address: string;
  /** An authenticated request is being served on it: never evicted. */
  busy: boolean;
}

const tracked = new WeakMap<Socket, Tracked>();

/**
 * Caps the server's open connections (the host agent's API, docs/behaviour.md#kvm-hosts: a flood is not
 * isolation, and the heartbeat keeps its descriptors; the operator API of `hafence serve`). A connection over
 * the per-address cap is destroyed at once, or (`atAddressCap: 'evict-oldest-idle'`) the address's oldest
 * connection not serving an authenticated request is evicted for it. At the total cap the oldest connection not
 * serving an authenticated request is evicted for the new one (idle floods cannot lock a management server
 * out); when every open connection is serving one, the new connection is destroyed. Either way the number
 * of sockets the process holds never exceeds `maxConnections` (+1 for an instant), nor one address's
 * `maxPerAddress`. With `firstRequestTimeoutMs`, a connection that delivers no request in that time is closed.
 * `onShed` is told of every connection dropped for a cap.
 */
export function guardConnections(
  server: Server,
  limits: ConnectionLimits,
  onShed: (address: string, why: 'per-address' | 'total') => void,
): void {
  const open = new Set<Socket>(); // insertion order = age
  const perAddress = new Map<string, Set<Socket>>(); // insertion order = age
  const evictIdle = (candidates: Iterable<Socket>): boolean => {
    for (const s of candidates) {
      if (tracked.get(s)?.busy) continue;
      release(s);
      s.destroy();
      return true;
    }
    return false;
  };
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const mine = perAddress.get(address);
    if (mine !== undefined && mine.size >= limits.maxPerAddress) {
      const evicted = limits.atAddressCap === 'evict-oldest-idle' && evictIdle(mine);
      onShed(address, 'per-address');
      if (!evicted) {
        socket.destroy();
        return;
      }
    }
    if (open.size >= limits.maxConnections) {
      const victim = [...open].find((s) => !tracked.get(s)?.busy);
      if (!victim) {
        socket.destroy();
        onShed(address, 'total');
        return;
      }
      onShed(tracked.get(victim)?.address ?? 'unknown', 'total');
      evictIdle([victim]);
    }
    open.add(socket);
    const set = perAddress.get(address) ?? new Set<Socket>();
    set.add(socket);
    perAddress.set(address, set);
    tracked.set(socket, { address, busy: false });
    socket.once('close', () => release(socket));
    const wait = limits.firstRequestTimeoutMs;
    if (wait !== undefined) {
      // The TCP socket's own idle timer: cleared at the first request (below); node's
      // keepAliveTimeout governs the time between later requests.
      socket.setTimeout(wait);
      socket.once('timeout', () => {
        if (open.has(socket) && !tracked.get(socket)?.busy) socket.destroy();
      });
    }
  });
  if (limits.firstRequestTimeoutMs !== undefined)
    server.on('request', (req: { socket: Socket | null }) => {
      const raw = tcpSocketOf(req.socket);
      if (raw && open.has(raw)) raw.setTimeout(0);
    });

  function release(socket: Socket): void {
    if (!open.delete(socket)) return;
    const address = tracked.get(socket)!.address;
    const set = perAddress.get(address);
    set?.delete(socket);
    if (set?.size === 0) perAddress.delete(address);
  }
}

/** The TCP socket the server's `connection` saw: a TLS socket's parent, or the socket itself. */
function tcpSocketOf(socket: Socket | null | undefined): Socket | undefined {
  if (!socket) return undefined;
  if (tracked.has(socket)) return socket;
  const parent = (socket as Socket & { _parent?: Socket })._parent;
  return parent && tracked.has(parent) ? parent : undefined;
}

/**
 * Marks `socket` as serving an authenticated request (`true`) or idle again (`false`). A
 * TLS socket is tracked by the TCP socket under it (what the server's `connection` saw).
 */
export function markBusy(socket: Socket | null | undefined, busy: boolean): void {
  const raw = tcpSocketOf(socket); // a request's socket is detached once it closed
  const t = raw && tracked.get(raw);
  if (t) t.busy = busy;
}
