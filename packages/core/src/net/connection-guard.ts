import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** Limits of {@link guardConnections}. */
export interface ConnectionLimits {
  /** Open connections at once, in total. */
  readonly maxConnections: number;
  /** Open connections at once from one source address. */
  readonly maxPerAddress: number;
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
 * the per-address cap is destroyed at once. At the total cap the oldest connection not serving an
 * authenticated request is evicted for the new one (idle floods cannot lock a management server out); when every
 * open connection is serving one, the new connection is destroyed. Either way the number
 * of sockets the process holds never exceeds `maxConnections` (+1 for an instant).
 * `onShed` is told of every connection dropped.
 */
export function guardConnections(
  server: Server,
  limits: ConnectionLimits,
  onShed: (address: string, why: 'per-address' | 'total') => void,
): void {
  const open = new Set<Socket>(); // insertion order = age
  const perAddress = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = perAddress.get(address) ?? 0;
    if (count >= limits.maxPerAddress) {
      socket.destroy();
      onShed(address, 'per-address');
      return;
    }
    if (open.size >= limits.maxConnections) {
      const victim = [...open].find((s) => !tracked.get(s)?.busy);
      if (!victim) {
        socket.destroy();
        onShed(address, 'total');
        return;
      }
      victim.destroy();
      onShed(tracked.get(victim)?.address ?? 'unknown', 'total');
      release(victim);
    }
    open.add(socket);
    perAddress.set(address, count + 1);
    tracked.set(socket, { address, busy: false });
    socket.once('close', () => release(socket));
  });

  function release(socket: Socket): void {
    if (!open.delete(socket)) return;
    const address = tracked.get(socket)!.address;
    const left = (perAddress.get(address) ?? 1) - 1;
    if (left <= 0) perAddress.delete(address);
    else perAddress.set(address, left);
  }
}

/**
 * Marks `socket` as serving an authenticated request (`true`) or idle again (`false`). A
 * TLS socket is tracked by the TCP socket under it (what the server's `connection` saw).
 */
export function markBusy(socket: Socket | null | undefined, busy: boolean): void {
  if (!socket) return; // a request's socket is detached once it closed
  const t = tracked.get(socket) ?? tracked.get((socket as Socket & { _parent?: Socket })._parent as Socket);
  if (t) t.busy = busy;
}
