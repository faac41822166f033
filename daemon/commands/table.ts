// Plain-text tables for the human-readable output of the commands.

/** Left-aligned columns, two spaces apart, no trailing blanks. */
export function formatTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [head, ...rows].map((r) => r.map((v, i) => v.padEnd(widths[i] as number)).join('  ').trimEnd()).join('\n');
}

/** "reason=count" for the non-zero drop counters, or "-". */
export function formatDrops(drops: Record<string, number>): string {
  const nonZero = Object.entries(drops).filter(([, n]) => n > 0);
  return nonZero.length ? nonZero.map(([k, n]) => `${k}=${n}`).join(' ') : '-';
}
