import type {
  Clock,
  FenceBudgetStatus,
  Logger,
  PartitionDetail,
  ResourceDetail,
  Secret,
  StateStore,
} from '@hafence/core';
import type { TokenIdentity } from './auth.js';
import type { OperatorEngine } from './engine-port.js';

/** Serves `GET /metrics` (another module builds it with prom-client). */
export interface MetricsProvider {
  /** The exposition format's content type. */
  readonly contentType: string;
  /** The current metrics in the text format. */
  metrics(): Promise<string>;
}

/** What `GET /api/v1/server` answers. */
export interface ServerInfo {
  readonly msId: string;
  readonly observeOnly: boolean;
  readonly version: string;
  /** When this server started (engine clock, ms). */
  readonly startedAt: number;
  /** The engine clock now (ms): the page shows times relative to it. */
  readonly now: number;
}

/** Everything the status page shows when rendered on the server. */
export interface StatusSnapshot {
  readonly server: ServerInfo;
  readonly partitions: readonly PartitionDetail[];
  readonly fenceBudgets: readonly FenceBudgetStatus[];
  readonly resources: readonly ResourceDetail[];
}

/** A static asset of the status page. */
export interface PageAsset {
  /** Its content type, e.g. `text/css; charset=utf-8`. */
  readonly type: string;
  readonly body: string;
}

/** Renders the status page at `/` and serves its assets (`status.js`, `status.css`…). */
export interface PageRenderer {
  /** The page's HTML for `snapshot`. */
  renderPage(snapshot: StatusSnapshot): string;
  /** Assets by file name (served at `/<name>`). */
  readonly assets: Readonly<Record<string, PageAsset>>;
}

/** HTTPS of the API. */
export interface OperatorTls {
  /** PEM certificate chain. */
  readonly cert: string;
  /** Its PEM private key. */
  readonly key: Secret;
  /** PEM CA: when given, clients must present a certificate it signed; its CN is their identity. */
  readonly clientCa?: string;
}

/** How callers prove who they are: token identities, client certificates (`tls.clientCa`), or both. */
export interface OperatorAuth {
  readonly tokens?: readonly TokenIdentity[];
  readonly tls?: OperatorTls;
}

/** Limits of the server (defaults: the contract's). */
export interface OperatorLimits {
  /** Open connections at once (default 256). */
  readonly maxConnections: number;
  /** Open connections at once from one address (default 192). */
  readonly maxConnectionsPerAddress: number;
  /** SSE clients at once (default 64). */
  readonly maxSseClients: number;
  /** A slower SSE client is dropped past this many unsent bytes (default 1 MiB). */
  readonly maxSseBufferedBytes: number;
  /** SSE keep-alive comment interval (ms, default 15 s). */
  readonly sseKeepAliveMs: number;
}

/** Options of `startOperatorServer`. */
export interface OperatorServerOptions {
  /** The engine (its `HaService`). */
  readonly service: OperatorEngine;
  /** Where the event history is read (`GET /api/v1/events`). */
  readonly store: Pick<StateStore, 'listEvents'>;
  readonly auth: OperatorAuth;
  /** Where to listen; port 0 picks a free port (see the handle's `address`). */
  readonly listen: { readonly host: string; readonly port: number };
  /** This management server's id. */
  readonly msId: string;
  /** The hafence version shown by `GET /api/v1/server`. */
  readonly version: string;
  /** Whether the engine runs observe-only (the whole engine). */
  readonly observeOnly?: boolean;
  /** `GET /metrics` (404 without it). */
  readonly metrics?: MetricsProvider;
  /** `GET /` and its assets (404 without it). */
  readonly page?: PageRenderer;
  /** The engine's clock (timestamps, keep-alives). */
  readonly clock?: Clock;
  /** Start-up, refused requests and dropped clients are logged here; never a token. */
  readonly logger?: Logger;
  readonly limits?: Partial<OperatorLimits>;
  /** Seed the recent transitions from the stored event history at start (default true). */
  readonly seedHistory?: boolean;
}
