/**
 * The operator's side of a hafence engine: an HTTP API with a live event stream,
 * Prometheus metrics and a status page, for `hafence serve` and for embedders.
 *
 * @packageDocumentation
 */

/** This package's version. */
export const OPERATOR_PACKAGE_VERSION = '0.1.0';
export { HaMetrics, createMetrics, DEFAULT_CHECK_BUCKETS, DEFAULT_POWER_BUCKETS } from './metrics/ha-metrics.js';
export type { MetricsOptions } from './metrics/ha-metrics.js';
export type {
  MetricsSource,
  MetricsResourceView,
  MetricsResourceCounts,
  MetricsPartitionView,
  MetricsBudgetView,
} from './metrics/metrics-source.js';

export { startOperatorServer } from './http/operator-server.js';
export type { OperatorServer } from './http/operator-server.js';
export type {
  OperatorServerOptions,
  OperatorAuth,
  OperatorTls,
  OperatorLimits,
  MetricsProvider,
  PageRenderer,
  PageAsset,
  ServerInfo,
} from './http/options.js';
export type { TokenIdentity } from './http/auth.js';
export type { OperatorEngine } from './http/engine-port.js';
export { MAX_BODY_BYTES } from './http/body.js';

export { renderStatusPage } from './page/render-status-page.js';
export { statusPage } from './page/status-page.js';
export type { StatusSnapshot, PageServerInfo, PageEvent } from './page/snapshot.js';
export { STATUS_PAGE_SCRIPT } from './page/status-script.js';
export { STATUS_PAGE_STYLE } from './page/status-style.js';
