// Compares the tables of two DuckDB files made by the engine (an old build's import and a new one's), table by
// table, with EXCEPT ALL both ways: every row the same, ids aside (`events.id` and the payload tables' ids are
// the events' places in the import's order, which may differ; they are replaced by the event's rank in
// (ts, stream_id, and its place in its stream) order before comparing, which both orders share).
//
// Contract: `node bench/compare-tables.mjs OLD.duckdb NEW.duckdb` prints one line per table (rows, rows only in
// old, rows only in new) and exits 1 when a table differs or is missing on one side.

import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { DuckDBInstance } = await import(path.join(ROOT, 'node_modules', '@duckdb', 'node-api', 'lib', 'index.js'));
const [oldFile, newFile] = process.argv.slice(2);
if (!oldFile || !newFile) {
  process.stderr.write('usage: node bench/compare-tables.mjs OLD.duckdb NEW.duckdb\n');
  process.exit(1);
}
const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
await conn.run(`ATTACH '${oldFile.replace(/'/g, "''")}' AS a (READ_ONLY); ATTACH '${newFile.replace(/'/g, "''")}' AS b (READ_ONLY)`);
const rows = async (sql) => (await conn.runAndReadAll(sql)).getRows();
// Tables, and every view: events, the payload views over the import's Parquet files and the per-name views
// (their content is the import's).
// The user's tables (schema main): the cache's own (ltt_cache) and the views' lookup tables (ltt_lookup) are how
// an import stores them, which may change.
const tables = async (cat) => new Set((await rows(`SELECT table_name FROM duckdb_tables() WHERE database_name = '${cat}' AND schema_name = 'main'
  UNION ALL SELECT view_name FROM duckdb_views() WHERE database_name = '${cat}' AND schema_name = 'main' AND NOT internal AND NOT temporary`)).map((r) => r[0]));
const [ta, tb] = [await tables('a'), await tables('b')];
// Each side's event ids mapped to a shared rank: the order by time, then stream, then the old id within the
// stream (ids increase along a stream in both imports).
for (const cat of ['a', 'b']) {
  await conn.run(`CREATE TEMP TABLE rank_${cat} AS SELECT id, row_number() OVER (ORDER BY ts NULLS LAST, stream_id, id) AS rank FROM ${cat}.events`);
}
let bad = 0;
for (const t of [...new Set([...ta, ...tb])].sort()) {
  if (!ta.has(t) || !tb.has(t)) {
    console.log(`${t}: only in ${ta.has(t) ? 'old' : 'new'}`);
    bad++;
    continue;
  }
  const cols = (await rows(`SELECT column_name FROM duckdb_columns() WHERE database_name = 'a' AND table_name = '${t.replace(/'/g, "''")}' ORDER BY column_index`)).map((r) => r[0]);
  const q = (cat) => {
    // An id column is an event's id (events, the payload and per-name views).
    const hasId = cols.includes('id');
    const list = cols.map((c) => (c === 'id' && hasId ? 'k.rank AS id' : `x."${c}"`)).join(', ');
    return `SELECT ${list} FROM ${cat}."${t}" x${hasId ? ` JOIN rank_${cat} k USING (id)` : ''}`;
  };
  const [[n]] = await rows(`SELECT count(*) FROM a."${t}"`);
  const [[onlyA]] = await rows(`SELECT count(*) FROM (${q('a')} EXCEPT ALL ${q('b')})`);
  const [[onlyB]] = await rows(`SELECT count(*) FROM (${q('b')} EXCEPT ALL ${q('a')})`);
  const same = onlyA === 0n && onlyB === 0n;
  if (!same) bad++;
  console.log(`${t}: ${n} rows${same ? ', same' : `, ${onlyA} only in old, ${onlyB} only in new`}`);
}
conn.closeSync();
process.exit(bad > 0 ? 1 : 0);
