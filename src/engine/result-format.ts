// Query results as text: an aligned table (what a person reads), CSV (RFC 4180) or JSON (an array of objects),
// shared by `ltt query` and the analyses so every table of ltt prints one way.
//
// Contract: `formatRows(columns, rows, format)` returns the whole text, newline-terminated. Values are
// DuckDB's JS values: bigints print exactly, NULL prints empty (table, CSV) or null (JSON).

export type ResultFormat = 'table' | 'csv' | 'json';

export const RESULT_FORMATS: readonly ResultFormat[] = ['table', 'csv', 'json'];

function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
  if (typeof v === 'object') return String(v);
  return String(v);
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function jsonValue(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v !== null && typeof v === 'object') return String(v);
  return v ?? null;
}

/** Numbers align right, text left, as psql and DuckDB's shell do. */
function isNumeric(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'bigint';
}

export function formatRows(columns: readonly string[], rows: readonly (readonly unknown[])[], format: ResultFormat): string {
  if (format === 'json') {
    const objs = rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, jsonValue(r[i])])));
    return JSON.stringify(objs, null, 1).replace(/\n\s*/g, (m) => (m.length > 2 ? '\n  ' : '\n')) + '\n';
  }
  if (format === 'csv') {
    const lines = [columns.map(csvField).join(',')];
    for (const r of rows) lines.push(r.map((v) => csvField(text(v))).join(','));
    return lines.join('\n') + '\n';
  }
  const cells = rows.map((r) => r.map(text));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const numeric = columns.map((_c, i) => rows.length > 0 && rows.every((r) => r[i] === null || isNumeric(r[i])));
  const line = (vals: readonly string[]): string =>
    vals.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(columns), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of cells) out.push(line(r));
  out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return out.join('\n') + '\n';
}
