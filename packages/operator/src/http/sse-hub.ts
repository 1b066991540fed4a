import type { ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '@hafence/core';
import type { EventFeed, FeedEntry } from './event-feed.js';

/** Limits of the SSE stream. */
export interface SseLimits {
  /** Clients at once (the next one gets 429). */
  readonly maxClients: number;
  /** A client whose unsent output exceeds this many bytes is dropped. */
  readonly maxBufferedBytes: number;
  /** A `: keep-alive` comment this often (ms). */
  readonly keepAliveMs: number;
}

/** The contract's limits: 64 clients, 1 MiB buffered, a keep-alive every 15 s. */
export const DEFAULT_SSE_LIMITS: SseLimits = { maxClients: 64, maxBufferedBytes: 1024 * 1024, keepAliveMs: 15_000 };

/**
 * The clients of `GET /api/v1/events/stream`. Writing never waits: an event is written to
 * each client's socket buffer and a client that does not read (its buffer past
 * `maxBufferedBytes`) is dropped, so the engine never waits on the HTTP side.
 */
export class SseHub {
  private readonly clients = new Set<ServerResponse>();
  private timer?: TimerHandle;
  private closed = false;

  /** Binds the hub to the feed it replays from and the clock of its keep-alives. */
  constructor(
    private readonly feed: EventFeed,
    private readonly clock: Clock,
    private readonly limits: SseLimits = DEFAULT_SSE_LIMITS,
    private readonly onDrop: (why: 'slow') => void = () => {},
  ) {}

  /** Whether another client may join. */
  get full(): boolean {
    return this.clients.size >= this.limits.maxClients;
  }

  /** Clients connected now. */
  get size(): number {
    return this.clients.size;
  }

  /** Starts the stream on `res`, replaying what followed `lastEventId` when given. */
  join(res: ServerResponse, lastEventId: number | undefined): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.socket?.setTimeout(0);
    res.socket?.setNoDelay(true);
    this.clients.add(res);
    res.once('close', () => this.clients.delete(res));
    res.write(`retry: 2000\n\n`);
    if (lastEventId !== undefined) for (const entry of this.feed.after(lastEventId)) this.send(res, frame(entry));
    this.arm();
  }

  /** Sends `entry` to every client. */
  broadcast(entry: FeedEntry): void {
    if (this.clients.size === 0) return;
    const text = frame(entry); // serialised once, whatever the number of clients
    for (const res of this.clients) this.send(res, text);
  }

  /** Ends every stream and stops the keep-alives. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private send(res: ServerResponse, text: string): void {
    if (res.destroyed || res.writableEnded) return;
    res.write(text);
    if (res.writableLength > this.limits.maxBufferedBytes) {
      this.clients.delete(res);
      res.destroy();
      this.onDrop('slow');
    }
  }

  /** One keep-alive timer while any client is connected. */
  private arm(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      for (const res of this.clients) this.send(res, ': keep-alive\n\n');
      if (this.clients.size > 0) this.arm();
    }, this.limits.keepAliveMs);
  }
}

/** One event as an SSE frame (`JSON.stringify` escapes newlines, so the data stays one line). */
function frame(entry: FeedEntry): string {
  return `id: ${entry.id}\nevent: ${entry.event.type}\ndata: ${JSON.stringify(entry.event)}\n\n`;
}
