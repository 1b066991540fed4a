import { request, type IncomingMessage } from 'node:http';
import { ALICE_TOKEN } from './api-rig.js';

/** One SSE message as received. */
export interface SseMessage {
  readonly id?: string;
  readonly event?: string;
  readonly data?: string;
}

/** An open event stream: what arrived so far. */
export interface SseStream {
  readonly status: number;
  readonly messages: SseMessage[];
  /** Every `:` comment line so far. */
  readonly comments: string[];
  /** Resolves when the server closed the stream. */
  readonly ended: Promise<void>;
  /** The body when the server answered with an error instead of a stream. */
  readonly body: () => string;
  close(): void;
}

/** Opens `GET /api/v1/events/stream` on 127.0.0.1:`port`. */
export function openStream(port: number, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/api/v1/events/stream',
        agent: false,
        headers: { authorization: `Bearer ${ALICE_TOKEN}`, accept: 'text/event-stream', ...headers },
      },
      (res: IncomingMessage) => {
        const messages: SseMessage[] = [];
        const comments: string[] = [];
        let text = '';
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const msg: Record<string, string> = {};
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) comments.push(line);
              const colon = line.indexOf(': ');
              if (colon > 0) msg[line.slice(0, colon)] = line.slice(colon + 2);
            }
            if (msg.data !== undefined) messages.push(msg);
          }
        });
        const ended = new Promise<void>((done) => {
          res.on('end', () => done());
          res.on('close', () => done());
          res.on('error', () => done());
        });
        resolve({
          status: res.statusCode ?? 0,
          messages,
          comments,
          ended,
          body: () => text,
          close: () => req.destroy(),
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Polls `check` every 10 ms (real time) until it holds, or fails after `ms`. */
export async function until(what: string, ms: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
