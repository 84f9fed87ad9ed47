/**
 * Aligned plain-text tables for the bench report: a header row, a rule, and one row per result.
 * Numeric-looking cells are right-aligned, everything else left-aligned.
 */

export interface Column {
  readonly header: string;
  /** Default: right for numbers, left otherwise (decided per column from its first data row). */
  readonly align?: 'left' | 'right';
}

const NUMERIC = /^[-+]?[\d.,]+(e[-+]?\d+)?[%x×]?$|^[-—n/a]+$/i;

/** Renders the table as lines joined by '\n' (no trailing newline). */
export function renderTable(title: string, columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, j) => Math.max([...c.header].length, ...rows.map((r) => [...(r[j] ?? '')].length)));
  const align = columns.map((c, j) => c.align ?? (rows.length > 0 && NUMERIC.test(rows[0]![j] ?? '') ? 'right' : 'left'));
  const pad = (s: string, j: number): string => {
    const gap = ' '.repeat(Math.max(0, widths[j]! - [...s].length));
    return align[j] === 'right' ? gap + s : s + gap;
  };
  const line = (cells: readonly string[]): string =>
    columns
      .map((_, j) => pad(cells[j] ?? '', j))
      .join('  ')
      .trimEnd();
  const out = [title, line(columns.map((c) => c.header)), widths.map((w) => '─'.repeat(w)).join('  ')];
  for (const r of rows) out.push(line(r));
  return out.join('\n');
}

/** A number with `digits` decimals, or 'n/a' when not finite. */
export function fixed(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : 'n/a';
}
