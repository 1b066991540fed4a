import { hostname } from 'node:os';
import { ConfigError, type HaEvent } from '@hafence/core';
import { EXIT } from '../exit-codes.js';
import { resolveLogLevel } from '../logging/log-level.js';
import { setStderrLogLevel, stderrLogger } from '../stderr-logger.js';
import { eventLine } from './event-line.js';
import { loadClusterFile } from './load-cluster-file.js';
import { StandaloneEngine } from './standalone-engine.js';
import { openServeStore, type ServeStore } from './open-store.js';
import { StoreOpenError } from '@hafence/store-typeorm';
import type { ClusterFile } from './cluster-schema.js';
import { startServeHttp } from './start-serve-http.js';
import { serveHttpSettings, type ServeHttpFlags } from './serve-http.js';

/** Options of `hafence serve`. */
export interface ServeOptions extends ServeHttpFlags {
  /** The lowest level logged on stderr (`--log-level`; else HAFENCE_LOG_LEVEL, else info). */
  readonly logLevel?: string;
  /** The cluster file (YAML or JSON). */
  readonly config: string;
  /** Print events as JSON lines (docs/behaviour.md#scenarios) instead of readable lines. */
  readonly json?: boolean;
  /** The CA that verifies the agents' certificates (overrides the file's `agentTls.caFile`). */
  readonly tlsCa?: string;
  /** This management server's id (`--ms-id`): must be listed in the file's `servers:` when it has one. */
  readonly msId?: string;
  /** `--observe-only`: check and decide, but send no power command and no arm/disarm (docs/observe-only.md). */
  readonly observeOnly?: boolean;
}

/**
 * `hafence serve`: validates the cluster file (a bad one exits 2 naming the field, and
 * nothing starts), runs the standalone engine, prints every event on stdout, and on
 * SIGTERM/SIGINT stops the engine and closes its sockets; resolves to the exit code.
 */
export async function runServe(options: ServeOptions): Promise<number> {
  let engine: StandaloneEngine;
  const onEvent = (e: HaEvent) => {
    const line = eventLine(e, options.json === true);
    if (line !== undefined) process.stdout.write(`${line}\n`);
  };
  let store: ServeStore | undefined;
  let http: ReturnType<typeof serveHttpSettings>;
  try {
    setStderrLogLevel(resolveLogLevel(options.logLevel, process.env));
    const file = loadClusterFile(options.config);
    checkMsId(file, options.msId);
    http = serveHttpSettings(options); // every flag and file checked before anything starts
    store = await openServeStore(file, options.config);
    // A PostgreSQL store is shared: partitions are owned by lease (SQLite: one server owns all), the leases
    // measured on the monotonic clock: a wall-clock step must not stretch a lease (SPEC §7).
    const shared = file.store !== undefined && typeof file.store !== 'string';
    const ownership = shared ? { coordination: store, msId: options.msId ?? hostname() } : undefined;
    engine = await StandaloneEngine.start({
      file,
      onEvent,
      logger: stderrLogger,
      agentCaFile: options.tlsCa,
      store,
      ownership,
      observeOnly: options.observeOnly,
    });
  } catch (err) {
    await store?.close().catch(() => undefined);
    if (err instanceof StoreOpenError) {
      process.stderr.write(`hafence serve: ${err.message}\n`);
      return EXIT.unreachable;
    }
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`hafence serve: ${err.message}\n`);
    return EXIT.usage;
  }
  const hosts = engine.power.list();
  stderrLogger.info('engine started', { config: options.config, hosts });
  if (engine.service.config.observeOnly)
    stderrLogger.info('observe-only: no power command and no arm/disarm will be sent; each is a would.power.action');
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  let api: Awaited<ReturnType<typeof startServeHttp>> | undefined;
  if (http) {
    try {
      api = await startServeHttp(http, {
        engine,
        store: store!,
        msId: options.msId ?? hostname(),
        logger: stderrLogger,
      });
    } catch (err) {
      stderrLogger.error('operator API not started', { error: (err as NodeJS.ErrnoException).code ?? String(err) });
      await engine.stop();
      return EXIT.failure;
    }
  }
  const signal = await stopped;
  stderrLogger.info('stopping', { signal });
  await api?.close(); // before the engine: no request reaches a stopping engine
  await engine.stop();
  stderrLogger.info('stopped');
  return EXIT.ok;
}

/** `--ms-id` against the file's `servers:` list: when the file lists servers, the id must be one of them. */
function checkMsId(file: ClusterFile, msId: string | undefined): void {
  if (msId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(msId))
    throw new ConfigError([
      { path: '--ms-id', value: msId, rule: 'must be an id of letters, digits, . _ - (at most 64)' },
    ]);
  const ids = file.servers?.map((s) => s.id);
  if (ids === undefined) return;
  if (msId === undefined)
    throw new ConfigError([
      { path: '--ms-id', value: undefined, rule: `required: the file lists servers ${ids.join(', ')}` },
    ]);
  if (!ids.includes(msId))
    throw new ConfigError([
      { path: '--ms-id', value: msId, rule: `must name one of the file's servers (${ids.join(', ')})` },
    ]);
}
