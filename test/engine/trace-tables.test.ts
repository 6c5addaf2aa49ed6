// The trace engine (src/engine) over babeltrace's CTF corpus and through `ltt query`: every event babeltrace2
// prints is one row of `events`, every discarded-items warning one row of `lost`; the tables are cached until
// the trace changes; bad SQL and missing traces get one line and exit 1.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { CORPUS, manifest } from '../graph/corpus-helpers.js';
import { openTraceDb } from '../../src/engine/trace-db.js';
import { runSql } from '../../src/engine/run-sql.js';
import { LttTestEnv } from '../cli/ltt-test-env.js';

const plainRuns = manifest().filter((m) => m.exit === 0 && m.args.length === 1 && !m.args[0]!.startsWith('-'));

describe('engine: babeltrace\'s corpus as tables', () => {
  it(`every event and every lost-items warning babeltrace2 prints is a row (${plainRuns.length} traces)`, async () => {
    assert.ok(plainRuns.length > 50, 'the corpus manifest lists too few plain runs');
    for (const m of plainRuns) {
      const expected = readFileSync(join(CORPUS, m.stdout), 'utf8').split('\n').filter((l) => l.length > 0);
      const warnings = m.stderr ? readFileSync(join(CORPUS, m.stderr), 'utf8').split('\n').filter((l) => /^WARNING: Tracer (may have )?discarded/.test(l)) : [];
      const db = await openTraceDb([join(CORPUS, m.args[0]!)], { noCache: true });
      try {
        const count = Number((await runSql(db.conn, 'SELECT count(*) FROM events')).rows[0]![0]);
        assert.equal(count, expected.length, `${m.args[0]}: events`);
        const lost = Number((await runSql(db.conn, 'SELECT count(*) FROM lost')).rows[0]![0]);
        assert.equal(lost, warnings.length, `${m.args[0]}: lost rows`);
        // Each trace's time range, kept at import for the analyses, is its events' (the corpus has clocks that go
        // back, several traces, events without a clock).
        const [[range, got]] = (await runSql(db.conn, `SELECT (SELECT list((trace_id, min_ts, max_ts) ORDER BY trace_id)::VARCHAR FROM
            (SELECT s.trace_id, min(e.ts) AS min_ts, max(e.ts) AS max_ts FROM events e JOIN streams s USING (stream_id) GROUP BY ALL HAVING min(e.ts) IS NOT NULL)),
          (SELECT list((trace_id, first_ts, last_ts) ORDER BY trace_id)::VARCHAR FROM traces WHERE first_ts IS NOT NULL)`)).rows as [string | null, string | null][];
        assert.equal(got, range, `${m.args[0]}: traces.first_ts/last_ts`);
        if (count > 0) {
          // The first event in time order is the first line babeltrace2 prints (names; muxing ties aside).
          const names = (await runSql(db.conn, 'SELECT DISTINCT name FROM events')).rows.map((r) => String(r[0]));
          assert.ok(names.every((n) => expected.some((l) => l.includes(` ${n}: `) || l.includes(`${n}:`))), `${m.args[0]}: names ${names}`);
        }
      } finally {
        db.close();
      }
    }
  });
});

describe('engine: import progress', () => {
  it('reports the share of packet bytes read, rising, ending at 1 with every event', async () => {
    const calls: Array<[number, number]> = [];
    const db = await openTraceDb([join(CORPUS, 'succeed/lttng-tracefile-rotation')], { noCache: true, progress: (f, n) => calls.push([f, n]) });
    try {
      const count = Number((await runSql(db.conn, 'SELECT count(*) FROM events')).rows[0]![0]);
      assert.ok(calls.length > 2, `too few reports: ${JSON.stringify(calls)}`);
      for (let i = 1; i < calls.length; i++) assert.ok(calls[i]![0] > calls[i - 1]![0] && calls[i]![1] >= calls[i - 1]![1], `not rising: ${JSON.stringify(calls)}`);
      assert.ok(calls[0]![0] > 0 && calls[0]![0] < 1, `first report ${calls[0]![0]}`);
      assert.deepEqual(calls.at(-1), [1, count]);
    } finally {
      db.close();
    }
  });
});

describe('engine: cache', () => {
  it('names each event\'s host, and the process of a per-PID user-space trace (its environment\'s vpid, procname)', async () => {
    const db = await openTraceDb([join(CORPUS, 'succeed/session-rotation/3')], { noCache: true });
    try {
      const r = await runSql(db.conn, 'SELECT host, pid, procname, count(*)::INTEGER FROM events GROUP BY ALL ORDER BY pid');
      assert.deepEqual(r.rows, [
        ['smarchi-efficios', 10352, 'hello-ust', 50],
        ['smarchi-efficios', 10353, 'hello-ust', 50],
      ]);
    } finally {
      db.close();
    }
  });

  it('imports once, reuses the tables until a trace file changes', async () => {
    const root = mkdtempSync('/tmp/ltt-engine-');
    const prev = process.env['LTT_CACHE'];
    process.env['LTT_CACHE'] = join(root, 'cache');
    try {
      const trace = join(root, 'trace');
      cpSync(join(CORPUS, 'succeed/wk-heartbeat-u'), trace, { recursive: true });
      const a = await openTraceDb([trace]);
      const n = (await runSql(a.conn, 'SELECT count(*) FROM events')).rows[0]![0];
      a.close();
      assert.equal(a.cached, false);
      const b = await openTraceDb([trace]);
      assert.equal(b.cached, true, 'second open was not served from the cache');
      assert.equal((await runSql(b.conn, 'SELECT count(*) FROM events')).rows[0]![0], n);
      b.close();
      utimesSync(join(trace, 'metadata'), new Date(), new Date(Date.now() + 5000));
      const c = await openTraceDb([trace]);
      assert.equal(c.cached, false, 'a changed trace was served from the stale cache');
      c.close();
    } finally {
      if (prev === undefined) delete process.env['LTT_CACHE'];
      else process.env['LTT_CACHE'] = prev;
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('engine: what a cached analysis opens', () => {
  it('per-name views do not hold the trace\'s threads: their lookups are macros stored once in the cache file', async () => {
    // Written out in each view, every thread's tid, pid and name made a kernel trace's catalog threads x event
    // names long, and every warm open parsed it all.
    const db = await openTraceDb([join(CORPUS, 'succeed/lttng-tracefile-rotation')], { noCache: true });
    try {
      const threads = Number((await runSql(db.conn, 'SELECT count(*) FROM threads')).rows[0]![0]);
      assert.ok(threads > 100, `${threads} threads: too few for the check`);
      const views = (await runSql(db.conn, `SELECT view_name, length(sql) FROM duckdb_views()
        WHERE NOT internal AND NOT temporary AND view_name <> 'events' AND view_name NOT LIKE 'payload:%'`)).rows;
      assert.ok(views.length > 5, `${views.length} per-name views`);
      const long = views.filter((r) => Number(r[1]) > 1000).map((r) => `${r[0]} (${r[1]} characters)`);
      assert.deepEqual(long, [], 'per-name views whose SQL grows with the threads');
      // The macros give the same thread as the events view.
      const [[wrong]] = (await runSql(db.conn, `SELECT count(*) FROM sched_switch s JOIN events e USING (id)
        WHERE s.tid IS DISTINCT FROM e.tid OR s.pid IS DISTINCT FROM e.pid OR s.procname IS DISTINCT FROM e.procname OR s.cpu IS DISTINCT FROM e.cpu`)).rows;
      assert.equal(Number(wrong), 0);
    } finally {
      db.close();
    }
  });

  it('a cache file whose Parquet folder is gone is imported again', async () => {
    const root = mkdtempSync('/tmp/ltt-engine-');
    try {
      const cacheDir = join(root, 'cache');
      const trace = join(CORPUS, 'succeed/wk-heartbeat-u');
      const a = await openTraceDb([trace], { cacheDir });
      const n = (await runSql(a.conn, 'SELECT count(*) FROM events')).rows[0]![0];
      a.close();
      for (const name of readdirSync(cacheDir)) if (name.endsWith('.parquet')) rmSync(join(cacheDir, name), { recursive: true });
      const b = await openTraceDb([trace], { cacheDir });
      try {
        assert.equal(b.cached, false, 'a cache without its Parquet files was served');
        assert.equal((await runSql(b.conn, 'SELECT count(*) FROM events')).rows[0]![0], n);
      } finally {
        b.close();
      }
      const c = await openTraceDb([trace], { cacheDir });
      assert.equal(c.cached, true);
      c.close();
      // Another import's folder of the same trace (left by a process that lost the race to the cache file) is
      // not this cache file's: with its own folder gone, the cache is imported again, not served broken.
      const own = readdirSync(cacheDir).find((name) => name.endsWith('.parquet'))!;
      const stale = own.replace(/\.\d+\.parquet$/, '.999999999.parquet');
      cpSync(join(cacheDir, own), join(cacheDir, stale), { recursive: true });
      rmSync(join(cacheDir, own), { recursive: true });
      const d = await openTraceDb([trace], { cacheDir });
      try {
        assert.equal(d.cached, false, 'a cache whose own Parquet folder is gone was served');
        assert.equal((await runSql(d.conn, 'SELECT count(*) FROM events')).rows[0]![0], n);
      } finally {
        d.close();
      }
      // The system call pairs' file alone gone (the syscalls view reads it): imported again too.
      for (const name of readdirSync(cacheDir)) if (name.endsWith('.parquet')) rmSync(join(cacheDir, name, 'syscalls.parquet'), { force: true });
      const e = await openTraceDb([trace], { cacheDir });
      try {
        assert.equal(e.cached, false, 'a cache without its system call pairs was served');
        assert.equal((await runSql(e.conn, 'SELECT count(*) FROM syscalls')).rows[0]![0], 0n);
      } finally {
        e.close();
      }
      // One class's payload file alone gone (its per-name view reads it): imported again, the view answers.
      const folder = readdirSync(cacheDir).find((name) => name.endsWith('.parquet'))!;
      const payloads = readdirSync(join(cacheDir, folder)).filter((name) => name.startsWith('payload-'));
      assert.ok(payloads.length > 0, 'payload files');
      rmSync(join(cacheDir, folder, payloads[0]!));
      const f = await openTraceDb([trace], { cacheDir });
      try {
        assert.equal(f.cached, false, 'a cache without one of its payload files was served');
        for (const [table] of (await runSql(f.conn, "SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal")).rows) {
          await runSql(f.conn, `SELECT count(*) FROM "${String(table)}"`);
        }
      } finally {
        f.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('engine: the thread of each kernel event', () => {
  it('is the next_tid of the last sched_switch before it on its CPU (before the first: its prev_tid), as an ASOF join says', async () => {
    // Four CPUs, a stream each, split over several files (tracefile rotation): the import follows each stream's switches.
    const db = await openTraceDb([join(CORPUS, 'succeed/lttng-tracefile-rotation')], { noCache: true });
    try {
      const streams = (await runSql(db.conn, 'SELECT cpu, events FROM streams ORDER BY cpu')).rows.map((r) => r.map(Number));
      assert.deepEqual(streams.map((r) => r[0]), [0, 1, 2, 3]);
      const [[events, withTid, wrong]] = (
        await runSql(
          db.conn,
          `WITH sw AS (SELECT ts, cpu, prev_tid, next_tid FROM sched_switch),
                first AS (SELECT cpu, arg_min(prev_tid, ts) AS tid FROM sw GROUP BY cpu)
           SELECT count(*), count(e.tid), count(*) FILTER (WHERE e.tid IS DISTINCT FROM COALESCE(w.next_tid, f.tid))
           FROM events e ASOF LEFT JOIN sw w ON e.cpu = w.cpu AND e.ts > w.ts LEFT JOIN first f ON f.cpu = e.cpu`,
        )
      ).rows.map((r) => r.map(Number));
      assert.equal(events, streams.reduce((a, r) => a + r[1]!, 0));
      assert.ok(withTid! > events! * 0.9, `${withTid} of ${events} events have a thread`);
      assert.equal(wrong, 0, 'events whose thread is not the last switch\'s next_tid');
    } finally {
      db.close();
    }
  });
});

describe('engine: tables a user keeps in the cache (extend)', () => {
  it('builds them with the import, adds them to a cache made without them once, then reads them from the file', async () => {
    const root = mkdtempSync('/tmp/ltt-engine-');
    const builds: boolean[] = [];
    const extend = {
      marker: 'per_name',
      async build(conn: Parameters<typeof runSql>[0], temp: boolean) {
        builds.push(temp);
        await conn.run(`CREATE ${temp ? 'TEMP ' : ''}TABLE per_name AS SELECT name, count(*) AS n FROM events GROUP BY name`);
      },
    };
    const count = async (db: Awaited<ReturnType<typeof openTraceDb>>) => Number((await runSql(db.conn, 'SELECT sum(n) FROM per_name')).rows[0]![0]);
    try {
      const cacheDir = join(root, 'cache');
      const trace = join(CORPUS, 'succeed/wk-heartbeat-u');
      const plain = await openTraceDb([trace], { cacheDir });
      const events = Number((await runSql(plain.conn, 'SELECT count(*) FROM events')).rows[0]![0]);
      plain.close();
      const a = await openTraceDb([trace], { cacheDir, extend });
      assert.equal(a.cached, true);
      assert.equal(await count(a), events);
      a.close();
      const b = await openTraceDb([trace], { cacheDir, extend });
      assert.equal(await count(b), events);
      b.close();
      assert.deepEqual(builds, [false], 'built again, or as temporary tables, though the file could keep them');
      // A cache file another process holds open is not written: the tables are this connection's own.
      const plain2 = await openTraceDb([trace], { cacheDir: join(root, 'cache2') });
      const file = plain2.file!;
      plain2.close();
      const holder = spawn(process.execPath, ['--input-type=module', '-e',
        `import { DuckDBInstance } from '@duckdb/node-api'; await DuckDBInstance.create(process.argv[1], { access_mode: 'READ_ONLY' }); console.log('open'); setTimeout(() => {}, 60000);`, file],
        { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        await new Promise<void>((resolve, reject) => {
          holder.stdout!.once('data', () => resolve());
          holder.once('exit', (code) => reject(new Error(`the holding process exited ${code}`)));
        });
        const c = await openTraceDb([trace], { cacheDir: join(root, 'cache2'), extend });
        assert.equal(c.cached, true);
        assert.equal(await count(c), events);
        c.close();
      } finally {
        holder.kill('SIGKILL');
      }
      assert.deepEqual(builds, [false, true]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('ltt query', () => {
  it('prints a table, CSV or JSON; bad SQL and missing traces get one line', async () => {
    const env = new LttTestEnv({ LTT_CACHE: '' });
    try {
      env.env['LTT_CACHE'] = join(env.root, 'cache');
      const trace = join(CORPUS, 'succeed/wk-heartbeat-u');
      const sql = 'SELECT name, count(*) AS n FROM events GROUP BY name ORDER BY name';
      const table = await env.ltt('query', trace, sql);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^name\s+n\n-+\s+-+\n/);
      const json = await env.ltt('query', '--format', 'json', trace, sql);
      const rows = JSON.parse(json.stdout) as { name: string; n: number }[];
      assert.ok(rows.length > 0 && rows.every((r) => typeof r.n === 'number' && r.n > 0), json.stdout);
      const csv = await env.ltt('query', '-f', 'csv', '-c', sql, trace);
      assert.equal(csv.stdout.split('\n')[0], 'name,n');
      assert.equal(csv.stdout.trim().split('\n').length, rows.length + 1);

      const bad = await env.ltt('query', trace, 'SELEC 1 AS x');
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /^Error: Parser Error: syntax error at or near "SELEC"[^\n]*\n$/);
      const missing = await env.ltt('query', join(env.root, 'nothing-here'), 'SELECT 1 AS x');
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
      const badFormat = await env.ltt('query', '-f', 'xml', trace, 'SELECT 1 AS x');
      assert.notEqual(badFormat.code, 0);
      assert.match(badFormat.stderr, /Unknown format xml/);
    } finally {
      await env.cleanup();
    }
  });
});
