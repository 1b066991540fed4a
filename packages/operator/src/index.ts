/**
 * The operator's side of a hafence engine: an HTTP API with a live event stream,
 * Prometheus metrics and a status page, for `hafence serve` and for embedders.
 *
 * @packageDocumentation
 */

/** This package's version. */
export const OPERATOR_PACKAGE_VERSION = '0.1.0';
