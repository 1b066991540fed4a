/**
 * Lays out rows as a plain-text table for a terminal: columns padded to their widest cell,
 * two spaces apart, the header first; control characters in cells (which could move the
 * cursor or forge a line) are shown as `?`.
 *
 * @example
 * process.stdout.write(textTable(['HOST', 'BMC'], [['kvm1', 'ok']]));
 */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows].map((r) => r.map(clean));
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

function clean(cell: string): string {
  return cell.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
