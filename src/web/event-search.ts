// The page's search: events by name and by field. The query is words: a plain word is part of the event's
// name; `field=value` is a field equal to value; `field~text` a field containing text (case-insensitive). All
// words must hold. Fields are looked up in each event's payload table (one per event name, src/engine), so
// only the tables that have that field are read.

import type { DuckDBConnection } from '@duckdb/node-api';
import { LttError } from '../errors.js';
import { runSql, sqlIdentifier, sqlString } from '../engine/run-sql.js';
import type { SearchResult } from './protocol.js';

const MAX_HITS = 500;

export async function searchEvents(conn: DuckDBConnection, origin: bigint, query: string): Promise<SearchResult> {
  const words = query.trim().split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0) return { hits: [], truncated: false };
  const names: string[] = [];
  const fields: { field: string; op: '=' | '~'; value: string }[] = [];
  for (const w of words) {
    const m = /^([A-Za-z_][\w.]*)([=~])(.*)$/.exec(w);
    if (m) fields.push({ field: m[1]!, op: m[2] as '=' | '~', value: m[3]! });
    else names.push(w);
  }
  const nameCond = names.map((n) => `name ILIKE ${sqlString(`%${n.replace(/[\\%_]/g, '\\$&')}%`)} ESCAPE '\\'`).join(' AND ') || 'TRUE';
  let source: string;
  if (fields.length === 0) {
    source = `SELECT id FROM events WHERE ${nameCond}`;
  } else {
    // Payload tables whose event name matches and that have every field searched.
    const tables = await runSql(
      conn,
      `SELECT table_name FROM duckdb_columns() WHERE table_name LIKE 'payload:%' AND ${nameCond.replace(/name ILIKE/g, "substr(table_name, 9) ILIKE")}
       AND column_name IN (${fields.map((f) => sqlString(f.field)).join(', ')})
       GROUP BY table_name HAVING count(DISTINCT column_name) = ${new Set(fields.map((f) => f.field)).size}`,
    );
    if (tables.rows.length === 0) throw new LttError('WEB_SEARCH', `No event ${names.length > 0 ? `named like ${names.join(' ')} ` : ''}has the field${fields.length > 1 ? 's' : ''} ${fields.map((f) => f.field).join(', ')}`);
    const cond = fields
      .map((f) => (f.op === '=' ? `CAST(${sqlIdentifier(f.field)} AS VARCHAR) = ${sqlString(f.value)}` : `CAST(${sqlIdentifier(f.field)} AS VARCHAR) ILIKE ${sqlString(`%${f.value}%`)}`))
      .join(' AND ');
    source = tables.rows.map((r) => `SELECT id FROM ${sqlIdentifier(String(r[0]))} WHERE ${cond}`).join(' UNION ALL ');
  }
  const r = await runSql(
    conn,
    `SELECT e.id, e.ts - ${origin}, e.name, e.cpu, e.tid, COALESCE(e.procname, '') FROM events e SEMI JOIN (${source}) h USING (id)
     ORDER BY e.ts, e.id LIMIT ${MAX_HITS + 1}`,
  );
  const hits = r.rows.slice(0, MAX_HITS).map(([id, ts, name, cpu, tid, proc]) => ({
    id: Number(id),
    ts: Number(ts),
    name: String(name),
    cpu: cpu === null ? null : Number(cpu),
    tid: tid === null ? null : Number(tid),
    what: tid === null ? '' : `${String(proc)} (${Number(tid)})`,
  }));
  return { hits, truncated: r.rows.length > MAX_HITS };
}
