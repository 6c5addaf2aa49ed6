// The engine's single pass over a real kernel trace (recorded here on every CPU: one stream each): events come
// out merged in time order (an event's id is its place; ties by stream, then by the stream's own order), and
// what the import builds as it reads (each event's thread, the system call pairs, the sched slices) equals
// what plain SQL over the events computes.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { LttTestEnv, sleep } from '../cli/ltt-test-env.js';
import { openTraceDb, type TraceDb } from '../../src/engine/trace-db.js';
import { runSql, sqlIdentifier, sqlString } from '../../src/engine/run-sql.js';
import { importTraces } from '../../src/engine/import-trace.js';
import { buildTables } from '../../src/engine/derived-tables.js';

const { DuckDBInstance } = createRequire(import.meta.url)('@duckdb/node-api') as typeof import('@duckdb/node-api');

const skip = process.getuid?.() !== 0 ? 'needs root (tracefs)' : false;

async function one(db: TraceDb, sql: string): Promise<number[]> {
  return (await runSql(db.conn, sql)).rows[0]!.map(Number);
}

describe('engine: one pass over a kernel trace', { skip, timeout: 300_000 }, () => {
  let env: LttTestEnv;
  let db: TraceDb;
  let trace: string;

  before(async () => {
    env = new LttTestEnv();
    trace = join(env.root, 'trace');
    const ltt = async (...args: string[]): Promise<void> => {
      const r = await env.ltt(...args);
      assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
    };
    await ltt('create', 'order', '-o', trace);
    await ltt('enable-channel', '-k', '--subbuf-size=4M', 'chan1');
    await ltt('enable-event', '-k', '-c', 'chan1', 'sched_switch,sched_wakeup,sched_waking,irq_handler_entry,irq_handler_exit,irq_softirq_entry,irq_softirq_exit');
    await ltt('enable-event', '-k', '-c', 'chan1', '--syscall', 'read,write,openat,close,getpid');
    await ltt('start');
    // A shell loop per CPU: system calls and switches on every CPU's stream, interleaved in time.
    const cpus = Math.min(availableParallelism(), 4);
    const jobs = Array.from({ length: cpus }, (_, c) =>
      spawn('taskset', ['-c', String(c), 'sh', '-c', 'i=0; while [ $i -lt 300 ]; do cat /proc/self/stat > /dev/null; i=$((i+1)); done'], { stdio: 'ignore' }),
    );
    // Direct writes to the disk: its completions come as hard IRQs (irqs table).
    jobs.push(spawn('dd', ['if=/dev/zero', `of=${join(env.root, 'irq-load')}`, 'bs=64k', 'count=64', 'oflag=direct'], { stdio: 'ignore' }));
    await Promise.all(jobs.map((j) => new Promise((resolve) => j.once('exit', resolve))));
    await sleep(100);
    await ltt('stop');
    await ltt('destroy', 'order');
    db = await openTraceDb([trace], { noCache: true });
  });

  after(async () => {
    db?.close();
    await env?.cleanup();
  });

  it('has events from several streams, interleaved', async () => {
    const [streams, events, switches] = await one(db, `SELECT count(DISTINCT stream_id), count(*), count(*) FILTER (WHERE name = 'sched_switch') FROM events`);
    assert.ok(streams! >= 2 || availableParallelism() === 1, `${streams} streams`);
    assert.ok(events! > 1000 && switches! > 10, `${events} events, ${switches} switches`);
  });

  it('numbers the events in time order, ties by stream, each stream in its own order', async () => {
    const [n, minId, maxId, outOfOrder] = await one(
      db,
      `SELECT count(*), min(id), max(id), count(*) FILTER (WHERE ts < pts OR (ts = pts AND stream_id < psid))
       FROM (SELECT id, ts, stream_id, lag(ts) OVER (ORDER BY id) AS pts, lag(stream_id) OVER (ORDER BY id) AS psid FROM events)`,
    );
    assert.deepEqual([minId, maxId], [0, n! - 1]);
    assert.equal(outOfOrder, 0, 'events whose id does not follow time order');
    // The table's rows are in id order too (no sort needed to read it in time order).
    const [unordered] = await one(db, `SELECT count(*) FILTER (WHERE id <> rn) FROM (SELECT id, row_number() OVER () - 1 AS rn FROM events)`);
    assert.equal(unordered, 0);
  });

  it('gives each event the thread of the last sched_switch before it on its CPU (before the first: its prev_tid)', async () => {
    const [wrong, withTid, all] = await one(
      db,
      `WITH sw AS (SELECT ts, cpu, prev_tid, next_tid FROM sched_switch),
            first AS (SELECT cpu, arg_min(prev_tid, ts) AS tid FROM sw GROUP BY cpu)
       SELECT count(*) FILTER (WHERE e.tid IS DISTINCT FROM COALESCE(w.next_tid, f.tid)), count(e.tid), count(*)
       FROM events e ASOF LEFT JOIN sw w ON e.cpu = w.cpu AND e.ts > w.ts LEFT JOIN first f ON f.cpu = e.cpu`,
    );
    assert.equal(wrong, 0);
    assert.ok(withTid! > all! * 0.9);
  });

  it('pairs system calls as a window over each thread\'s system call events does', async () => {
    const exits = (await runSql(db.conn, `SELECT table_name FROM duckdb_columns() WHERE column_name = 'ret' AND table_name LIKE 'payload:syscall_exit_%'`)).rows;
    assert.ok(exits.length >= 3, `exit tables: ${exits}`);
    const rets = exits.map((r) => `SELECT id, ret FROM "${String(r[0])}"`).join(' UNION ALL ');
    const reference = `
      SELECT trace_id, ts, exit_ts - ts AS dur, cpu, tid, call AS name, exit_ret AS ret FROM (
        SELECT *, lead(ts) OVER w AS exit_ts, lead(is_entry) OVER w AS next_entry, lead(call) OVER w AS next_call, lead(ret) OVER w AS exit_ret
        FROM (SELECT e.trace_id, e.id, e.ts, e.cpu, e.tid, starts_with(e.name, 'syscall_entry_') AS is_entry,
                     regexp_replace(e.name, '^(compat_)?syscall_(entry|exit)_', '') AS call, x.ret::BIGINT AS ret
              FROM events e LEFT JOIN (${rets}) x USING (id)
              WHERE e.name LIKE '%syscall_%' AND e.tid IS NOT NULL)
        WINDOW w AS (PARTITION BY trace_id, tid ORDER BY ts, id))
      WHERE is_entry AND NOT next_entry AND next_call = call`;
    const [pairs, onlyOurs, onlyReference] = await one(
      db,
      `SELECT (SELECT count(*) FROM syscalls), (SELECT count(*) FROM (SELECT * FROM syscalls EXCEPT ALL SELECT * FROM (${reference}))),
              (SELECT count(*) FROM (SELECT * FROM (${reference}) EXCEPT ALL SELECT * FROM syscalls))`,
    );
    assert.ok(pairs! > 100, `${pairs} system calls`);
    assert.deepEqual([onlyOurs, onlyReference], [0, 0]);
  });

  it('cuts each CPU\'s time into sched slices at its switches', async () => {
    const reference = `
      WITH b AS (SELECT trace_id, min(ts) AS b, max(ts) AS e FROM events GROUP BY trace_id),
      sw AS (SELECT s.*, row_number() OVER w AS n, lead(s.ts) OVER w AS next_ts, lead(s.prev_state_label) OVER w AS end_state
             FROM sched_switch s JOIN events e USING (id) WINDOW w AS (PARTITION BY e.trace_id, s.cpu ORDER BY s.ts, s.id))
      SELECT e.trace_id, b.b AS ts, sw.ts - b.b AS dur, sw.cpu, sw.prev_tid AS tid, sw.prev_prio AS prio, sw.prev_state_label AS end_state
      FROM sw JOIN events e USING (id) JOIN b USING (trace_id) WHERE n = 1
      UNION ALL
      SELECT e.trace_id, sw.ts, COALESCE(sw.next_ts, b.e) - sw.ts, sw.cpu, sw.next_tid, sw.next_prio, sw.end_state
      FROM sw JOIN events e USING (id) JOIN b USING (trace_id)`;
    const [slices, onlyOurs, onlyReference] = await one(
      db,
      `SELECT (SELECT count(*) FROM sched), (SELECT count(*) FROM (SELECT * FROM sched EXCEPT ALL SELECT * FROM (${reference}))),
              (SELECT count(*) FROM (SELECT * FROM (${reference}) EXCEPT ALL SELECT * FROM sched))`,
    );
    assert.ok(slices! > 10, `${slices} slices`);
    assert.deepEqual([onlyOurs, onlyReference], [0, 0]);
  });

  it('pairs each hard IRQ\'s entry with its exit on the same CPU, with the handler\'s return value', async () => {
    const [irqs, withRet, unpaired] = await one(
      db,
      `SELECT (SELECT count(*) FROM irqs), (SELECT count(ret) FROM irqs),
              (SELECT count(*) FROM irq_handler_exit x WHERE NOT EXISTS (SELECT 1 FROM irqs i WHERE i.cpu = x.cpu AND i.irq = x.irq AND i.ts + i.dur = x.ts))`,
    );
    assert.ok(irqs! > 0, 'no hard IRQ in the trace (the direct disk writes should raise some)');
    assert.equal(withRet, irqs, 'irqs without their exit\'s return value');
    assert.equal(unpaired, 0, 'irq_handler_exit events with no irqs row ending there');
  });
  it('builds the same tables and views with the per-name views made on a side connection meanwhile', async () => {
    // Two imports of the trace into one file: the views on the importing connection (schema a), then on a side
    // connection while the importing one builds the other tables (schema b); every table and view compared.
    const file = join(env.root, 'side.duckdb');
    const inst = await DuckDBInstance.create(file);
    const names: string[][] = [];
    try {
      for (const [i, useSide] of [[0, false], [1, true]] as const) {
        const dir = join(env.root, `side-${i}`);
        mkdirSync(dir);
        const one = await DuckDBInstance.create(join(dir, 't.duckdb'));
        const conn = await one.connect();
        const side = await one.connect();
        await importTraces(conn, [trace], undefined, dir);
        await buildTables(conn, dir, useSide ? side : undefined);
        // The requests read the per-name views: they exist on the importing connection once buildTables is done.
        const listed = (await runSql(conn, `SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary AND view_name NOT LIKE 'payload:%' ORDER BY 1`)).rows.map((r) => String(r[0]));
        names.push(listed);
        side.closeSync();
        conn.closeSync();
        one.closeSync();
        const c = await inst.connect();
        await c.run(`ATTACH ${sqlString(join(dir, 't.duckdb'))} AS s${i} (READ_ONLY)`);
        c.closeSync();
      }
      assert.deepEqual(names[1], names[0]);
      assert.ok(names[0]!.includes('sched_switch') && names[0]!.length > 5, `views: ${names[0]}`);
      const conn = await inst.connect();
      // Every schema's: the lookup tables the views join (ltt_lookup) too.
      const tables = (await runSql(conn, `SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = 's0' AND NOT temporary
        UNION ALL SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = 's0' AND NOT internal AND NOT temporary`)).rows.map((r) => `${sqlIdentifier(String(r[0]))}.${sqlIdentifier(String(r[1]))}`);
      assert.ok(tables.includes('"ltt_lookup"."threads"'), `tables: ${tables}`);
      for (const t of tables) {
        const [[a, b]] = (await runSql(conn, `SELECT (SELECT count(*) FROM (FROM s0.${t} EXCEPT ALL FROM s1.${t})),
          (SELECT count(*) FROM (FROM s1.${t} EXCEPT ALL FROM s0.${t}))`)).rows as [[bigint, bigint]];
        assert.deepEqual([Number(a), Number(b)], [0, 0], `table ${t}`);
      }
      conn.closeSync();
    } finally {
      inst.closeSync();
    }
  });
});
