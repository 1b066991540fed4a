import type { Socket } from 'node:net';

/**
 * Reads whole HTTP/1.1 requests (heads, `Content-Length` bodies) from `socket` as they arrive, and calls `onRequest`
 * for each; `onText` sees every byte read, as latin1 text. Socket errors are ignored (the tests close sockets hard).
 */
export function readRequests(
  socket: Socket,
  onRequest: (head: string, body: string) => void,
  onText?: (text: string) => void,
): void {
  let buf = '';
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    const text = chunk.toString('latin1');
    onText?.(text);
    buf += text;
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.slice(0, end);
      const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + len) return;
      const body = buf.slice(end + 4, end + 4 + len);
      buf = buf.slice(end + 4 + len);
      onRequest(head, body);
    }
  });
}
