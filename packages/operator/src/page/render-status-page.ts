import type { AlertEvent, FenceBudgetStatus, PartitionDetail, ResourceDetail } from '@hafence/core';
import { attr, escapeHtml, relTime } from './html.js';
import type { PageEvent, StatusSnapshot } from './snapshot.js';
import {
  deadlineText,
  durationText,
  eventSubject,
  eventText,
  relativeText,
  resourceNotes,
  waitingLabel,
} from './text.js';

/** Most timeline entries and alerts the page shows (the browser script keeps the same cap). */
export const PAGE_LIST_LIMIT = 200;

/**
 * The status page of `hafence serve` as one HTML document, rendered on the server from a
 * snapshot: hosts grouped by partition with their HA state, power state and next deadline,
 * fence budgets, recent alerts and a timeline. It works without JavaScript (it refreshes
 * itself every 5 s); `status.js` (`STATUS_PAGE_SCRIPT`) then keeps it live from the event
 * stream. Every value is HTML-escaped; the page loads nothing but `status.css` and
 * `status.js`, relative to itself, so it runs under `Content-Security-Policy: default-src 'self'`.
 *
 * Test hooks (stable): each host row has `data-resource`, `data-state` and, with a power
 * binding, `data-power`; `#timeline` entries have `data-type`; `#alerts` entries `data-code`;
 * `#observe-only` is present only when the server or a partition is observe-only.
 *
 * @example
 * ```ts
 * res.end(renderStatusPage({ now: clock.now(), server, partitions, fenceBudgets, resources, alerts, timeline }));
 * ```
 */
export function renderStatusPage(snapshot: StatusSnapshot): string {
  const { server, now } = snapshot;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hafence · ${escapeHtml(server.msId)}</title>
<link rel="stylesheet" href="status.css">
<script src="status.js" defer></script>
<noscript><meta http-equiv="refresh" content="5"></noscript>
</head>
<body${attr('data-now', now)}${attr('data-observe-only', server.observeOnly)}>
<header>
<h1>hafence</h1>
<p class="server">server <b>${escapeHtml(server.msId)}</b> · version ${escapeHtml(server.version)} · \
<span id="live" data-live="static">refreshes every 5 s</span></p>
</header>
${observeOnlyBanner(snapshot)}<main>
<section id="clusters">
${clusterSections(snapshot)}
</section>
${budgetSection(snapshot.fenceBudgets)}
<section class="events">
<h2>Alerts</h2>
${alertList(snapshot.alerts, now)}
</section>
<section class="events">
<h2>Timeline</h2>
${timelineList(snapshot.timeline, now)}
</section>
</main>
</body>
</html>
`;
}

function observeOnlyBanner(s: StatusSnapshot): string {
  const scoped = s.partitions.filter((p) => p.observeOnly).map((p) => p.id);
  if (!s.server.observeOnly && scoped.length === 0) return '';
  const where = s.server.observeOnly ? 'This server' : `Partitions ${scoped.join(', ')}`;
  return `<div id="observe-only" role="status"><b>Observe-only.</b> ${escapeHtml(where)} \
runs checks and decisions but sends no power command; each command it would have sent is a \
<code>would.power.action</code> event.</div>\n`;
}

/** One section per partition that holds resources, in partition order; unknown partitions last. */
function clusterSections(s: StatusSnapshot): string {
  const byPartition = new Map<string, ResourceDetail[]>();
  for (const r of s.resources) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r]);
  const known = s.partitions.filter((p) => byPartition.has(p.id) || p.kind === 'cluster');
  const unknown = [...byPartition.keys()].filter((id) => !s.partitions.some((p) => p.id === id));
  const sections = [
    ...known.map((p) => clusterSection(p.id, p, byPartition.get(p.id) ?? [], s)),
    ...unknown.map((id) => clusterSection(id, undefined, byPartition.get(id) ?? [], s)),
  ];
  return sections.length > 0 ? sections.join('\n') : '<p class="none">No resources.</p>';
}

function clusterSection(id: string, p: PartitionDetail | undefined, rows: ResourceDetail[], s: StatusSnapshot): string {
  const sorted = [...rows].sort((a, b) => a.ref.id.localeCompare(b.ref.id, 'en', { numeric: true }));
  const state = p ? ` <span class="pstate"${attr('data-state', p.state)}>${escapeHtml(p.state)}</span>` : '';
  return `<section class="cluster"${attr('data-partition', id)}>
<h2>${escapeHtml(p?.kind ?? 'partition')} ${escapeHtml(id)}${state}</h2>
${p ? `<p class="meta">${partitionMeta(p, s.now)}</p>\n` : ''}<table class="hosts">
<thead><tr><th>Host</th><th>HA state</th><th>Since</th><th>Power</th><th>Waiting for</th><th>Notes</th></tr></thead>
<tbody>
${sorted.map((r) => hostRow(r, s)).join('\n')}
</tbody>
</table>
</section>`;
}

function partitionMeta(p: PartitionDetail, now: number): string {
  const parts = [
    p.haEnabled ? 'HA enabled' : 'HA disabled',
    `${p.members} members`,
    `since ${relTime(p.since, relativeText(p.since, now))}${p.reason ? `: ${escapeHtml(p.reason)}` : ''}`,
  ];
  if (!p.enabled) parts.push('partition disabled');
  if (p.parent !== undefined) parts.push(`in ${escapeHtml(p.parent)}`);
  if (p.haOverride) parts.push(`HA switched by ${escapeHtml(p.haOverride.by)}`);
  if (p.stormSince !== undefined)
    parts.push(`storm guard since ${relTime(p.stormSince, relativeText(p.stormSince, now))}`);
  if (p.cooldownUntil !== undefined && p.cooldownUntil > now)
    parts.push(`cool-down ends ${relTime(p.cooldownUntil, relativeText(p.cooldownUntil, now))}`);
  if (p.lease)
    parts.push(p.lease.held ? `lease held (epoch ${escapeHtml(p.lease.epoch ?? '?')})` : 'lease held elsewhere');
  return parts.join(' · ');
}

function hostRow(r: ResourceDetail, s: StatusSnapshot): string {
  const hooks =
    attr('data-resource', r.ref.id) +
    attr('data-resource-type', r.ref.type) +
    attr('data-state', r.state) +
    attr('data-power', r.power);
  const waiting = r.waiting
    ? `${escapeHtml(waitingLabel(r.waiting.for))} ${relTime(r.waiting.at, deadlineText(r.waiting.at, s.now), true)}`
    : '—';
  const notes = resourceNotes(r, s.server.observeOnly).map(escapeHtml).join(' · ');
  return `<tr${hooks}><th scope="row">${escapeHtml(r.ref.id)}</th>\
<td class="state">${escapeHtml(r.state)}</td>\
<td class="since">${relTime(r.since, relativeText(r.since, s.now))}</td>\
<td class="power">${escapeHtml(r.power ?? '—')}</td>\
<td class="waiting">${waiting}</td>\
<td class="notes">${notes}</td></tr>`;
}

function budgetSection(budgets: readonly FenceBudgetStatus[]): string {
  if (budgets.length === 0) return '';
  const rows = budgets.map(
    (
      b,
    ) => `<tr${attr('data-scope', b.scope)}${attr('data-halted', b.halted)}><th scope="row">${escapeHtml(b.scope)}</th>\
<td>${escapeHtml(b.used)} / ${escapeHtml(b.limit)}</td><td>${escapeHtml(durationText(b.windowMs))}</td>\
<td>${b.halted ? `halted${b.haltedReason ? `: ${escapeHtml(b.haltedReason)}` : ''}` : 'ok'}</td></tr>`,
  );
  return `<section id="budgets">
<h2>Fence budgets</h2>
<table><thead><tr><th>Scope</th><th>Stops used</th><th>Window</th><th>Fencing</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
</section>
`;
}

/** Newest first; of events at the same time, the later in `list` first (`list` is oldest first). */
function newestFirst<T extends { readonly t: number }>(list: readonly T[]): T[] {
  return [...list]
    .reverse()
    .sort((a, b) => b.t - a.t)
    .slice(0, PAGE_LIST_LIMIT);
}

function alertList(alerts: readonly AlertEvent[], now: number): string {
  const items = newestFirst(alerts).map(
    (a) => `<li${attr('data-code', a.code)}${attr('data-level', a.level)}>${relTime(a.t, relativeText(a.t, now))} \
<span class="level">${escapeHtml(a.level)}</span> <code>${escapeHtml(a.code)}</code>\
${a.resource === undefined ? '' : ` <b>${escapeHtml(a.resource)}</b>`} ${escapeHtml(a.message)}</li>`,
  );
  return `<ol id="alerts">\n${items.length > 0 ? items.join('\n') : '<li class="none">No recent alerts.</li>'}\n</ol>`;
}

function timelineList(events: readonly PageEvent[], now: number): string {
  const items = newestFirst(events).map((e) => {
    const hooks = attr('data-type', e.type) + attr('data-subject', eventSubject(e));
    const type = `<span class="type">${escapeHtml(e.type)}</span>`;
    return `<li${hooks}>${relTime(e.t, relativeText(e.t, now))} ${type} ${escapeHtml(eventText(e))}</li>`;
  });
  return `<ol id="timeline">\n${items.length > 0 ? items.join('\n') : '<li class="none">No events yet.</li>'}\n</ol>`;
}
