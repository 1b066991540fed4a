import { isObject, type JsonObject } from './redfish-json.js';

/** What a Redfish error body says: its `MessageId`s and messages (`@Message.ExtendedInfo`). */
export interface RedfishErrorInfo {
  /** `MessageId`s, e.g. `Base.1.8.ResourceNotFound` (code of the error first). */
  readonly messageIds: readonly string[];
  /** The human messages, shortened. */
  readonly messages: readonly string[];
}

const MAX_ITEMS = 8;
const MAX_TEXT = 200;

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length > 0 ? v.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, MAX_TEXT) : undefined;

function collect(items: unknown, ids: string[], messages: string[]): void {
  if (!Array.isArray(items)) return;
  for (const item of items.slice(0, MAX_ITEMS)) {
    if (!isObject(item)) continue;
    const id = text(item.MessageId);
    const msg = text(item.Message);
    if (id) ids.push(id);
    if (msg) messages.push(msg);
  }
}

/**
 * Reads the error of a Redfish answer (`{"error": {"code", "message", "@Message.ExtendedInfo": […]}}`,
 * or a bare `@Message.ExtendedInfo`, or a task's `Messages`). Never throws: an error body
 * can be anything, and whatever is missing is simply left out.
 */
export function readErrorInfo(doc: JsonObject | undefined): RedfishErrorInfo {
  const ids: string[] = [];
  const messages: string[] = [];
  if (!doc) return { messageIds: ids, messages };
  const error = isObject(doc.error) ? doc.error : undefined;
  if (error) {
    const code = text(error.code);
    const message = text(error.message);
    if (code) ids.push(code);
    if (message) messages.push(message);
    collect(error['@Message.ExtendedInfo'], ids, messages);
  }
  collect(doc['@Message.ExtendedInfo'], ids, messages);
  collect(doc.Messages, ids, messages);
  return { messageIds: ids, messages };
}

/** One line for an error message: the message ids, else the messages, else `fallback`. */
export function describeErrorInfo(info: RedfishErrorInfo, fallback: string): string {
  if (info.messageIds.length > 0) return info.messageIds.join(', ');
  if (info.messages.length > 0) return info.messages.join('; ');
  return fallback;
}
