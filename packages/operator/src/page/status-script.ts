import { PAGE_LIST_LIMIT } from './render-status-page.js';
import {
  deadlineText,
  durationText,
  eventSubject,
  eventText,
  relativeText,
  resourceNotes,
  waitingLabel,
} from './text.js';

/** Every `HaEvent` type the stream may send (`event: <type>`); EventSource needs a listener per name. */
const EVENT_TYPES = [
  'resource.transition',
  'partition.transition',
  'power.transition',
  'power.action',
  'power.read-failing',
  'power.read-ok',
  'power.auth-failed',
  'workloads.released',
  'fencing.halted',
  'partition.acquired',
  'partition.lost',
  'partition.handed-over',
  'alert',
  'operator.action',
  'would.power.action',
];

/** Events after which the partition headers and budgets are re-read (the whole `#clusters` fragment). */
const STRUCTURE_EVENTS = [
  'partition.transition',
  'partition.acquired',
  'partition.lost',
  'partition.handed-over',
  'fencing.halted',
  'operator.action',
];

const shared = [durationText, relativeText, deadlineText, waitingLabel, resourceNotes, eventText, eventSubject]
  .map((f) => f.toString())
  .join('\n');

/**
 * `status.js`, the status page's browser script (serve it as `text/javascript`). Plain
 * JavaScript, no framework, no external URL; it needs no inline script, so it runs under
 * `Content-Security-Policy: default-src 'self'`. It opens `api/v1/events/stream` (relative to
 * the page), adds each event to `#timeline` (alerts to `#alerts` too), updates a host row's
 * `data-state` / `data-power` on `resource.transition` / `power.transition`, re-reads
 * `api/v1/resources` and `api/v1/server` for the waiting times (and the page itself when the
 * set of rows or a partition changed), counts relative times down every second, and shows
 * `live` / `reconnecting` in `#live` (`data-live`).
 */
export const STATUS_PAGE_SCRIPT = `// hafence status page: live updates from the event stream (no build step).
(() => {
  'use strict';
${shared}
  const LIMIT = ${PAGE_LIST_LIMIT};
  const EVENT_TYPES = ${JSON.stringify(EVENT_TYPES)};
  const STRUCTURE_EVENTS = ${JSON.stringify(STRUCTURE_EVENTS)};
  const body = document.body;
  const serverObserveOnly = body.dataset.observeOnly === 'true';
  let offset = Number(body.dataset.now) - Date.now();
  const serverNow = () => Date.now() + offset;
  const live = document.getElementById('live');

  function setLive(state, text) {
    if (!live) return;
    live.dataset.live = state;
    live.textContent = text;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function relText(node, now) {
    const at = Number(node.dataset.at);
    return node.classList.contains('deadline') ? deadlineText(at, now) : relativeText(at, now);
  }

  function rel(at, deadline) {
    const node = el('span', deadline ? 'rel deadline' : 'rel');
    node.dataset.at = String(at);
    node.textContent = relText(node, serverNow());
    return node;
  }

  function tick() {
    const now = serverNow();
    for (const node of document.querySelectorAll('.rel[data-at]')) node.textContent = relText(node, now);
  }

  function rowOf(id, type) {
    for (const tr of document.querySelectorAll('tr[data-resource]')) {
      if (tr.dataset.resource === id && (type === undefined || tr.dataset.resourceType === type)) return tr;
    }
    return undefined;
  }

  function cell(tr, name) {
    return tr.querySelector('td.' + name);
  }

  function setState(tr, state, since) {
    tr.dataset.state = state;
    cell(tr, 'state').textContent = state;
    if (typeof since === 'number') cell(tr, 'since').replaceChildren(rel(since));
  }

  function setPower(tr, power) {
    if (typeof power === 'string') tr.dataset.power = power;
    else delete tr.dataset.power;
    cell(tr, 'power').textContent = typeof power === 'string' ? power : '—';
  }

  function setWaiting(tr, waiting) {
    const c = cell(tr, 'waiting');
    if (waiting && typeof waiting.at === 'number') {
      c.replaceChildren(waitingLabel(String(waiting.for)) + ' ', rel(waiting.at, true));
    } else {
      c.textContent = '—';
    }
  }

  function updateRow(r) {
    const tr = rowOf(r.ref.id, r.ref.type);
    if (!tr) return false;
    setState(tr, r.state, r.since);
    setPower(tr, r.power);
    setWaiting(tr, r.waiting);
    cell(tr, 'notes').textContent = resourceNotes(r, serverObserveOnly).join(' · ');
    return true;
  }

  function prepend(listId, li) {
    const list = document.getElementById(listId);
    if (!list) return;
    for (const none of list.querySelectorAll('li.none')) none.remove();
    list.prepend(li);
    while (list.children.length > LIMIT) list.lastElementChild.remove();
  }

  function addTimeline(e) {
    const li = el('li');
    li.dataset.type = e.type;
    const subject = eventSubject(e);
    if (subject !== undefined) li.dataset.subject = subject;
    li.append(rel(e.t), ' ', el('span', 'type', e.type), ' ', eventText(e));
    prepend('timeline', li);
  }

  function addAlert(e) {
    const li = el('li');
    li.dataset.code = String(e.code);
    li.dataset.level = String(e.level);
    li.append(rel(e.t), ' ', el('span', 'level', e.level), ' ', el('code', '', e.code));
    if (e.resource !== undefined) li.append(' ', el('b', '', e.resource));
    li.append(' ', String(e.message));
    prepend('alerts', li);
  }

  async function getJson(path) {
    const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
    if (!res.ok) throw new Error(path + ': HTTP ' + res.status);
    return res.json();
  }

  async function reloadFragments() {
    const res = await fetch('./', { headers: { accept: 'text/html' }, cache: 'no-store' });
    if (!res.ok) throw new Error('page: HTTP ' + res.status);
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    for (const id of ['clusters', 'budgets']) {
      const now = document.getElementById(id);
      const next = doc.getElementById(id);
      if (now && next) now.replaceWith(next);
    }
  }

  // One refresh at a time; a request during one runs another after it (its answer may predate the event).
  let refreshTimer;
  let inFlight = false;
  let again = false;
  let wholePage = false;
  function scheduleRefresh(ms, whole) {
    wholePage = wholePage || whole === true;
    if (inFlight) again = true;
    else if (refreshTimer === undefined) refreshTimer = setTimeout(refresh, ms);
  }

  async function refresh() {
    refreshTimer = undefined;
    inFlight = true;
    const whole = wholePage;
    wholePage = false;
    try {
      const [server, list] = await Promise.all([getJson('api/v1/server'), getJson('api/v1/resources')]);
      if (typeof server.now === 'number') offset = server.now - Date.now();
      const rows = list.resources.filter(updateRow).length;
      const shown = document.querySelectorAll('tr[data-resource]').length;
      if (whole || rows !== list.resources.length || rows !== shown) await reloadFragments();
      tick();
    } catch (err) {
      console.warn('hafence: refresh failed', err);
    } finally {
      inFlight = false;
      if (again) {
        again = false;
        scheduleRefresh(250);
      }
    }
  }

  function onEvent(message) {
    let e;
    try {
      e = JSON.parse(message.data);
    } catch {
      return;
    }
    if (!e || typeof e.type !== 'string' || typeof e.t !== 'number') return;
    addTimeline(e);
    if (e.type === 'alert') addAlert(e);
    if (e.type === 'resource.transition') {
      const tr = rowOf(String(e.resource), e.resourceType);
      if (tr) setState(tr, String(e.to), e.t);
    } else if (e.type === 'power.transition') {
      const tr = rowOf(String(e.host));
      if (tr) setPower(tr, String(e.to));
    }
    scheduleRefresh(250, STRUCTURE_EVENTS.includes(e.type));
  }

  function connect() {
    setLive('connecting', 'connecting…');
    const source = new EventSource('api/v1/events/stream');
    source.addEventListener('open', () => {
      setLive('live', 'live');
      scheduleRefresh(0, true);
    });
    source.addEventListener('error', () => {
      setLive('reconnecting', 'reconnecting…');
      // The browser retries by itself unless the server refused the stream (CLOSED).
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
    });
    for (const type of EVENT_TYPES) source.addEventListener(type, onEvent);
    source.addEventListener('message', onEvent);
  }

  setInterval(tick, 1000);
  setInterval(() => scheduleRefresh(0), 10000);
  if (typeof EventSource === 'function') connect();
})();
`;
