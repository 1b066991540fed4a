/**
 * `@hafence/operator/internal`: building blocks of the operator API (the event feed and
 * its SSE hub, the per-resource history). Not part of the embedding API: it may change in
 * any release without notice.
 */
export { EventFeed, FEED_RING_SIZE } from './http/event-feed.js';
export type { FeedEntry } from './http/event-feed.js';
export { SseHub, DEFAULT_SSE_LIMITS } from './http/sse-hub.js';
export type { SseLimits } from './http/sse-hub.js';
export { ResourceHistory, HISTORY_PER_RESOURCE } from './http/resource-history.js';
export type { TransitionEntry, ReleaseEntry } from './http/resource-history.js';
export { apiErrorOf } from './http/engine-errors.js';
