/** HTML-escapes `value` for text and for double- or single-quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** ` name="value"` with the value escaped; nothing when `value` is undefined. */
export function attr(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? '' : ` ${name}="${escapeHtml(value)}"`;
}

/**
 * A time relative to the page's `now`, which the browser script keeps counting (`data-at`);
 * a `deadline` reads `in 4 s`, then `due`.
 */
export function relTime(at: number, text: string, deadline = false): string {
  return `<span class="${deadline ? 'rel deadline' : 'rel'}"${attr('data-at', at)}>${escapeHtml(text)}</span>`;
}
