import { readFileSync } from 'node:fs';
import type { Logger, StateStore } from '@hafence/core';
import { createMetrics, startOperatorServer, statusPage, type OperatorServer } from '@hafence/operator';
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
  return {
    ...api,
    close: async () => {
      await api.close();
      metrics.close();
    },
  };
}

function cliVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
    .version;
}
