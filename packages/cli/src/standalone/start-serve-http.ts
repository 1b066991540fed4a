import { readFileSync } from 'node:fs';
import type { Logger, StateStore } from '@hafence/core';
import { createMetrics, startOperatorServer, statusPage, type OperatorServer } from '@hafence/operator';
import { loadApiTokenFile } from '../secrets/api-token-file.js';
import type { ServeHttpSettings } from './serve-http.js';
import type { StandaloneEngine } from './standalone-engine.js';

/** What the operator API of `hafence serve` serves. */
export interface ServeHttpContext {
  readonly engine: StandaloneEngine;
  /** The store the engine writes its event history to. */
  readonly store: StateStore;
  readonly msId: string;
  readonly logger: Logger;
}

/**
 * Starts the operator API of `hafence serve --http` over a started engine, with its
 * Prometheus metrics at `/metrics` and the status page at `/`, and logs where it listens (never a token). The caller
 * closes it before it stops the engine; closing it also ends the metrics' subscriptions.
 */
export async function startServeHttp(settings: ServeHttpSettings, ctx: ServeHttpContext): Promise<OperatorServer> {
  const service = ctx.engine.service;
  const metrics = createMetrics(service);
  const api = await startOperatorServer({
    service,
    metrics,
    store: ctx.store,
    auth: settings.auth,
    listen: { host: settings.host, port: settings.port },
    msId: ctx.msId,
    version: cliVersion(),
    observeOnly: service.config.observeOnly === true,
    logger: ctx.logger,
    page: statusPage,
  }).catch((err: unknown) => {
    metrics.close();
    throw err;
  });
  ctx.logger.info('operator API listening', {
    url: `${api.protocol}://${api.address.host.includes(':') ? `[${api.address.host}]` : api.address.host}:${api.address.port}`,
    identities: settings.auth.tokens?.map((t) => t.name) ?? [],
    clientCertificates: settings.auth.tls?.clientCa !== undefined,
  });
  const reload = () => reloadTokens(settings, api, ctx.logger);
  if (settings.tokenFile !== undefined) process.on('SIGHUP', reload);
  return {
    ...api,
    close: async () => {
      process.off('SIGHUP', reload);
      await api.close();
      metrics.close();
    },
  };
}

/**
 * SIGHUP: re-reads `--http-token-file`; the new identities apply from the next request (a revoked
 * token is refused). A file that no longer reads or checks leaves the current identities in force
 * and is logged (the flag and the rule, never a token).
 */
function reloadTokens(settings: ServeHttpSettings, api: OperatorServer, logger: Logger): void {
  try {
    const tokens = loadApiTokenFile(settings.tokenFile!, '--http-token-file');
    api.setTokens(tokens);
    logger.info('operator API: token file re-read', { identities: tokens.map((t) => t.name) });
  } catch (err) {
    logger.warn('operator API: token file not re-read; the current identities stay in force', {
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

function cliVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
    .version;
}
