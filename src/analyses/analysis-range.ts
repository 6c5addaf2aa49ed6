// What every analysis shares: the time range it covers (the trace's, narrowed by --begin/--end), the thread
// filters (--tid, --procname), and the one-line notes saying where it is blind (lost events) or why it cannot
// answer (events not recorded, with the `ltt enable-event` command that records them).

import type { DuckDBConnection } from '@duckdb/node-api';
import { LttError } from '../errors.js';
import { runSql } from '../engine/run-sql.js';

export interface AnalysisOptions {
  /** ns since the epoch, or HH:MM:SS[.fraction] / YYYY-MM-DD HH:MM:SS[.fraction] in local time (lttng-analyses' forms). */
  readonly begin?: string;
  readonly end?: string;
  readonly tids?: readonly number[];
  readonly procnames?: readonly string[];
  readonly top?: number;
}

export interface TimeRange {
  readonly begin: bigint;
  readonly end: bigint;
}

/** A time stamp as lttng-analyses takes it; `day` (ns) gives the date of a bare time of day. */
export function parseTimestamp(text: string, dayNs: bigint): bigint {
  if (/^\d+$/.test(text)) return BigInt(text);
  const m = /^(?:(\d{4})-(\d{2})-(\d{2})[ T])?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(text.trim());
  if (!m) throw new LttError('ANALYSIS_TIME', `Invalid time ${JSON.stringify(text)}: use ns, HH:MM:SS[.ns] or YYYY-MM-DD HH:MM:SS[.ns]`);
  const day = new Date(Number(dayNs / 1_000_000n));
  const date = m[1]
    ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
    : new Date(day.getFullYear(), day.getMonth(), day.getDate(), Number(m[4]), Number(m[5]), Number(m[6]));
  return BigInt(date.getTime()) * 1_000_000n + BigInt((m[7] ?? '').padEnd(9, '0'));
}

export async function traceRange(conn: DuckDBConnection, opts: AnalysisOptions): Promise<TimeRange> {
  // Kept per trace at import (not min/max over events: a pass over every event's time).
  const r = await runSql(conn, 'SELECT min(first_ts), max(last_ts) FROM traces');
  const [b, e] = r.rows[0] as [bigint | null, bigint | null];
  if (b === null || e === null) throw new LttError('ANALYSIS_EMPTY', 'The trace has no events');
  const begin = opts.begin !== undefined ? parseTimestamp(opts.begin, b) : b;
  const end = opts.end !== undefined ? parseTimestamp(opts.end, b) : e;
  if (end < begin) throw new LttError('ANALYSIS_TIME', '--end is before --begin');
  return { begin: begin > b ? begin : b, end: end < e ? end : e };
}

/** SQL condition keeping the threads the options name (true when they name none). */
export function threadFilter(opts: AnalysisOptions, tidColumn = 'tid', nameColumn = 'name'): string {
  const parts: string[] = [];
  if (opts.tids && opts.tids.length > 0) parts.push(`${tidColumn} IN (${opts.tids.map((t) => Math.trunc(t)).join(', ')})`);
  if (opts.procnames && opts.procnames.length > 0) {
    parts.push(`${nameColumn} IN (${opts.procnames.map((n) => `'${n.replace(/'/g, "''")}'`).join(', ')})`);
  }
  return parts.length > 0 ? `(${parts.join(' OR ')})` : 'TRUE';
}

/** One line per stream that lost events in the range, or nothing: an analysis is blind there. */
export async function lostNotes(conn: DuckDBConnection, range: TimeRange): Promise<string[]> {
  const r = await runSql(
    conn,
    `SELECT kind, sum(count), count(*), min(begin_ts), max(end_ts) FROM lost
     WHERE end_ts IS NULL OR (end_ts >= ${range.begin} AND begin_ts <= ${range.end}) GROUP BY kind ORDER BY kind`,
  );
  return r.rows.map(([kind, count, spans, b, e]) => {
    const what = kind === 'events' ? `${count ?? 'an unknown number of'} events were lost` : `${count ?? 'some'} packets were lost`;
    const where = b !== null && e !== null ? ` between ${b} and ${e} ns (${spans} gap${spans === 1n ? '' : 's'})` : '';
    return `Warning: ${what}${where}: results there are incomplete.`;
  });
}

/** Fails with the command that records what an analysis needs when the trace has none of `events` (LIKE patterns). */
export async function requireEvents(conn: DuckDBConnection, analysis: string, events: readonly string[], enable: string): Promise<void> {
  const r = await runSql(conn, `SELECT count(*) FROM event_classes WHERE ${events.map((e) => `name LIKE '${e}'`).join(' OR ')}`);
  if (Number(r.rows[0]![0]) === 0) {
    const names = events.map((e) => e.replace(/%/g, '*')).join(', ');
    throw new LttError('ANALYSIS_EVENTS', `${analysis} needs ${names} events, which the trace lacks: record them with \`${enable}\``);
  }
}
