import { ConfigError, NotFoundError, ProtocolError, type HaError } from '@hafence/core';
import type { z } from 'zod';
import { exitCodeFor } from '../exit-codes.js';
import { loadApiTokenFile } from '../secrets/api-token-file.js';
import { loadCertFile } from '../secrets/tls-files.js';
import { ApiClient } from './api-client.js';
import { partitionsShape, resourceDetailShape, resourcesShape, serverInfoShape } from './api-shapes.js';
import { formatDetail, formatOverview } from './status-table.js';

/** The URL `hafence status` asks without `--url` (the README's `serve --http 127.0.0.1:9440`). */
export const DEFAULT_API_URL = 'http://127.0.0.1:9440';

/** Options of `hafence status`. */
export interface StatusOptions {
  readonly url?: string;
  readonly tokenFile?: string;
  readonly tlsCa?: string;
  readonly json?: boolean;
  /** Longest wait for each answer (ms). */
  readonly timeoutMs?: number;
}

/** Where the command writes; the process streams by default. */
export interface StatusIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (tables) or not (JSON). */
  readonly tty: boolean;
}

const processIo: StatusIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  tty: process.stdout.isTTY === true,
};

/**
 * `hafence status [RESOURCE]`: asks the operator API of `hafence serve --http` for the
 * partitions and hosts (or one host's detail) and prints tables on a terminal, JSON
 * otherwise or with `--json`. Exit codes as `hafence power`: 2 usage, 3 token refused,
 * 4 unreachable or timeout, 5 an answer that is not the API's JSON; 1 an unknown resource.
 */
export async function runStatus(
  resource: string | undefined,
  options: StatusOptions,
  io: StatusIo = processIo,
): Promise<number> {
  const json = options.json === true || !io.tty;
  let api: ApiClient | undefined;
  try {
    api = new ApiClient({
      url: options.url ?? DEFAULT_API_URL,
      // The file of `serve --http-token-file`: its first identity's token is sent.
      token:
        options.tokenFile === undefined ? undefined : loadApiTokenFile(options.tokenFile, '--token-file')[0]!.token,
      ca: options.tlsCa === undefined ? undefined : loadCertFile(options.tlsCa, '--tls-ca'),
      timeoutMs: options.timeoutMs ?? 5_000,
    });
    const client = api;
    const read = async <T extends z.ZodType>(path: string, shape: T): Promise<z.infer<T>> =>
      checked(path, shape, await client.get(path).catch((err: unknown) => notTheApi(path, err)));
    if (resource === undefined) {
      const [server, partitions, resources] = await Promise.all([
        read('/api/v1/server', serverInfoShape),
        read('/api/v1/partitions', partitionsShape),
        read('/api/v1/resources', resourcesShape),
      ]);
      io.out(
        json
          ? `${JSON.stringify({ server, ...partitions, resources: resources.resources })}\n`
          : formatOverview(server, partitions, resources.resources),
      );
    } else {
      const path = `/api/v1/resources/${encodeURIComponent(resource)}`;
      const [server, detail] = await Promise.all([
        read('/api/v1/server', serverInfoShape),
        client.get(path).then(
          (answer) => checked(path, resourceDetailShape, answer),
          (err: unknown) => {
            throw err instanceof NotFoundError ? new NotFoundError('resource', resource) : err;
          },
        ),
      ]);
      io.out(json ? `${JSON.stringify({ server, resource: detail })}\n` : formatDetail(server, detail));
    }
    return 0;
  } catch (err) {
    const e = err as HaError;
    if (json && !(err instanceof ConfigError))
      io.out(
        `${JSON.stringify({ ok: false, error: { code: e.code ?? 'HAF0000', type: e.name, message: e.message } })}\n`,
      );
    io.err(`hafence status: ${e.message}\n`);
    return exitCodeFor(err);
  } finally {
    // The first failure decides: the other answers are not read on.
    api?.close();
  }
}

/** A 404 on a route every hafence API has: whatever answered is not it. */
function notTheApi(path: string, err: unknown): never {
  if (err instanceof NotFoundError) throw new ProtocolError('operator-api', `${path} not found: not a hafence API?`);
  throw err;
}

function checked<T extends z.ZodType>(path: string, shape: T, answer: unknown): z.infer<T> {
  const parsed = shape.safeParse(answer);
  if (parsed.success) return parsed.data;
  const where = parsed.error.issues[0]?.path.join('.') || '(root)';
  throw new ProtocolError('operator-api', `the answer of ${path} is not what the API returns (at ${where})`);
}
