import { textTable } from '../format/text-table.js';
import type { ProbeCell, ProbeRow } from './probe-hosts.js';

/** The probe as a terminal table: one row per host, its BMC and agent results with their short details. */
export function formatProbeTable(rows: readonly ProbeRow[]): string {
  const cell = (c: ProbeCell) => c.result;
  const detail = (c: ProbeCell) => c.detail ?? '';
  return textTable(
    ['HOST', 'CLUSTER', 'BMC', 'AGENT', 'DETAIL'],
    rows.map((r) => [
      r.host,
      r.cluster,
      cell(r.bmc),
      cell(r.agent),
      [r.bmc.detail && `bmc: ${detail(r.bmc)}`, r.agent.detail && `agent: ${detail(r.agent)}`]
        .filter(Boolean)
        .join('; '),
    ]),
  );
}
