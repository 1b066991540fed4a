import { ConfigError, type HaEvent } from '@hafence/core';
import { EXIT } from '../exit-codes.js';
import { stderrLogger } from '../stderr-logger.js';
import { eventLine } from './event-line.js';
import { loadClusterFile } from './load-cluster-file.js';
import { StandaloneEngine } from './standalone-engine.js';

/** Options of `hafence serve`. */
export interface ServeOptions {
  /** The cluster file (YAML or JSON). */
  readonly config: string;
  /** Print events as JSON lines (docs/behaviour.md#scenarios) instead of readable lines. */
  readonly json?: boolean;
  /** The CA that verifies the agents' certificates (overrides the file's `agentTls.caFile`). */
  readonly tlsCa?: string;
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
  try {
    engine = await StandaloneEngine.start({
      file: loadClusterFile(options.config),
      onEvent,
      logger: stderrLogger,
      agentCaFile: options.tlsCa,
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`hafence serve: ${err.message}\n`);
    return EXIT.usage;
  }
  const hosts = engine.power.list();
  stderrLogger.info('engine started', { config: options.config, hosts });
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  stderrLogger.info('stopping', { signal });
  await engine.stop();
  stderrLogger.info('stopped');
  return EXIT.ok;
}
