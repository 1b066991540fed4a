import { request } from 'node:https';
import type { RedfishSim } from '@hafence/sim';

/** A reply as a plain HTTPS client sees it. */
export interface PlainReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The parsed body; `undefined` when empty or not JSON. */
  readonly json: unknown;
}

/** Options of {@link call}. */
export interface CallOptions {
  readonly basic?: readonly [string, string];
  readonly token?: string;
  readonly body?: string | object;
  readonly headers?: Record<string, string>;
  /** Trust this CA instead of the simulator's own certificate. */
  readonly ca?: string;
  readonly timeoutMs?: number;
}

/** One request with Node's own HTTPS client, trusting the simulator's certificate as its CA. */
export function call(sim: RedfishSim, method: string, path: string, o: CallOptions = {}): Promise<PlainReply> {
  const body = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  const headers: Record<string, string> = { Accept: 'application/json', ...o.headers };
  if (o.basic) headers.Authorization = `Basic ${Buffer.from(`${o.basic[0]}:${o.basic[1]}`).toString('base64')}`;
  if (o.token) headers['X-Auth-Token'] = o.token;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = request(
      `${sim.url}${path}`,
      { method, headers, ca: o.ca ?? sim.certPem, agent: false, timeout: o.timeoutMs ?? 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : (JSON.parse(text) as unknown);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** The first `@Message.ExtendedInfo` MessageId of an error body. */
export function messageId(reply: PlainReply): string | undefined {
  const err = (reply.json as { error?: { '@Message.ExtendedInfo'?: Array<{ MessageId?: string }> } } | undefined)
    ?.error;
  return err?.['@Message.ExtendedInfo']?.[0]?.MessageId;
}

/** Resolves after `ms` (test code: real time). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until true or `ms` elapsed. */
export async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await sleep(20);
  }
  return check();
}
