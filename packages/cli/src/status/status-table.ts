import { textTable } from '../format/text-table.js';
import type { PartitionsAnswer, ResourceDetailAnswer, ResourceRow, ServerInfo } from './api-shapes.js';

/** `ms` as a short span: `850ms`, `12s`, `3m 05s`, `2h 10m`, `3d 4h`. */
export function span(ms: number): string {
  const a = Math.abs(Math.round(ms));
  if (a < 1_000) return `${a}ms`;
  const s = Math.floor(a / 1_000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** A time of the engine clock relative to the server's `now`: `in 5s`, `12s ago`. */
export function relative(t: number, now: number): string {
  return t >= now ? `in ${span(t - now)}` : `${span(now - t)} ago`;
}

/** The server line, the partitions and the hosts, as `hafence status` prints them on a terminal. */
export function formatOverview(server: ServerInfo, partitions: PartitionsAnswer, resources: ResourceRow[]): string {
  const now = server.now;
  const head = `hafence ${server.version} on ${server.msId}, up ${span(now - server.startedAt)}${server.observeOnly ? ' — OBSERVE-ONLY: no power command is sent' : ''}\n`;
  const budgets = new Map(partitions.fenceBudgets.map((b) => [b.scope, b]));
  const parts = textTable(
    ['PARTITION', 'KIND', 'PARENT', 'STATE', 'SINCE', 'HA', 'MEMBERS', 'FENCE BUDGET', 'REASON'],
    partitions.partitions.map((p) => {
      const b = budgets.get(p.id);
      return [
        p.id,
        p.kind,
        p.parent ?? '-',
        p.state + (p.observeOnly ? ' (observe-only)' : ''),
        relative(p.since, now),
        !p.enabled ? 'disabled' : p.haEnabled ? 'on' : 'off',
        String(p.members),
        b ? `${b.used}/${b.limit}${b.halted ? ' HALTED' : ''}` : '-',
        p.reason,
      ];
    }),
  );
  const hosts = textTable(
    ['HOST', 'CLUSTER', 'STATE', 'SINCE', 'POWER', 'WAITING FOR'],
    resources.map((r) => [
      r.ref.id,
      r.partition,
      r.state,
      relative(r.since, now),
      r.power ?? '-',
      r.waiting ? `${r.waiting.for} ${relative(r.waiting.at, now)}` : '-',
    ]),
  );
  const global = budgets.get('global');
  const globalLine = global
    ? `global fence budget ${global.used}/${global.limit} per ${span(global.windowMs)}${global.halted ? ' — HALTED' : ''}\n`
    : '';
  return `${head}${globalLine}\n${parts}\n${hosts}`;
}

/** One resource's detail: state, power, what it waits for, its timers, episode counters, transitions, releases. */
export function formatDetail(server: ServerInfo, r: ResourceDetailAnswer): string {
  const now = server.now;
  const at = (v: unknown) => (typeof v === 'number' ? relative(v, now) : String(v));
  const yesNo = (v: unknown) => (v === undefined ? 'unknown' : v ? 'yes' : 'no');
  const maint = r.maintenance as { inventory?: boolean; operator?: { by: string; at: number; reason?: string } };
  const lines: [string, string][] = [
    ['host', `${r.ref.id} (${r.ref.type}) in ${r.partition}`],
    ['state', `${r.state} since ${relative(r.since, now)}`],
    ['power', r.power ?? '-'],
    ['healthy', yesNo(r.healthy)],
    ['eligible', yesNo(r.eligible)],
    [
      'maintenance',
      maint.operator
        ? `operator (${maint.operator.by}, ${relative(maint.operator.at, now)}${maint.operator.reason ? `: ${maint.operator.reason}` : ''})`
        : maint.inventory
          ? 'inventory'
          : 'no',
    ],
    ['waiting for', r.waiting ? `${r.waiting.for} ${relative(r.waiting.at, now)}` : '-'],
    ['observe-only', yesNo(r.observeOnly)],
    ['owned here', yesNo(r.owned)],
    ['released', yesNo(r.released)],
  ];
  const timers = Object.entries(r.timers).map(([k, v]): [string, string] => [k, at(v)]);
  const episode = Object.entries(r.episode ?? {}).map(([k, v]): [string, string] => [
    k,
    k.endsWith('At') ? at(v) : String(v),
  ]);
  const kv = (title: string, rows: [string, string][]) =>
    rows.length === 0
      ? `${title}: none\n`
      : `${title}:\n${textTable(['', ''], rows)
          .split('\n')
          .slice(1)
          .map((l) => (l ? `  ${l}` : l))
          .join('\n')}`;
  const transitions =
    r.transitions.length === 0
      ? 'transitions: none\n'
      : `transitions (newest last):\n${textTable(
          ['WHEN', 'FROM', 'TO', 'REASON'],
          r.transitions.map((t) => [relative(t.t, now), t.from, t.to, t.reason ?? '']),
        )}`;
  const releases =
    r.releases.length === 0
      ? ''
      : `releases:\n${textTable(
          ['WHEN', 'PROOF'],
          r.releases.map((x) => [relative(x.t, now), x.proof]),
        )}`;
  return [kv('resource', lines), kv('timers', timers), kv('episode', episode), transitions, releases]
    .filter(Boolean)
    .join('\n');
}
