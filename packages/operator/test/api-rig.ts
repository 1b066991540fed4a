import { request, type IncomingHttpHeaders } from 'node:http';
import { Secret, type ResourceRef } from '@hafence/core';
import { createFakeCluster, type FakeCluster } from '@hafence/testkit';
import { startOperatorServer, type OperatorServer, type OperatorServerOptions } from '@hafence/operator';

/** The token of identity `alice` in every API test. */
export const ALICE_TOKEN = 'alice-token-0123456789abcdef0123456789';
/** The token of identity `bob`. */
export const BOB_TOKEN = 'bob-token-0123456789abcdef0123456789abc';

/** An answer read whole. */
export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly json: any;
}

/** A fake cluster on virtual time with an operator API on 127.0.0.1 (a free port). */
export interface ApiRig {
  readonly cluster: FakeCluster;
  readonly api: OperatorServer;
  /** One request to the API; `token` undefined sends no Authorization header. */
  call(
    method: string,
    path: string,
    o?: { token?: string | null; body?: string | object; headers?: Record<string, string> },
  ): Promise<Answer>;
  close(): Promise<void>;
}

/** Starts a fake cluster of `hosts` hosts and the API over it (alice and bob may call it). */
export async function startApiRig(
  o: { hosts?: number; options?: Partial<OperatorServerOptions>; config?: object } = {},
): Promise<ApiRig> {
  const cluster = await createFakeCluster({ hosts: o.hosts ?? 3, config: o.config });
  const api = await startOperatorServer({
    service: cluster.service,
    store: cluster.store,
    listen: { host: '127.0.0.1', port: 0 },
    auth: {
      tokens: [
        { name: 'alice', token: new Secret(ALICE_TOKEN) },
        { name: 'bob', token: new Secret(BOB_TOKEN) },
      ],
    },
    msId: 'ms-test',
    version: '0.1.0-test',
    clock: cluster.clock,
    ...o.options,
  });
  return {
    cluster,
    api,
    call: (method, path, c = {}) => call(api.address.port, method, path, c),
    close: async () => {
      await api.close();
      await cluster.close();
    },
  };
}

/** One HTTP request to 127.0.0.1:`port`, read whole. */
export function call(
  port: number,
  method: string,
  path: string,
  o: { token?: string | null; body?: string | object; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const token = o.token === undefined ? ALICE_TOKEN : o.token;
  const body = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  const headers: Record<string, string> = {
    ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
    ...(body !== undefined
      ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }
      : {}),
    ...o.headers,
  };
  if (headers['transfer-encoding'] !== undefined) delete headers['content-length'];
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body); // end(body) would add a content-length beside transfer-encoding
    req.end();
  });
}

/** `type`/`id` of a host. */
export const host = (id: string): ResourceRef => ({ type: 'host', id });
