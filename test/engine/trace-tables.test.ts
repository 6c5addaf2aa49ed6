// The trace engine (src/engine) over babeltrace's CTF corpus and through `ltt query`: every event babeltrace2
// prints is one row of `events`, every discarded-items warning one row of `lost`; the tables are cached until
// the trace changes; bad SQL and missing traces get one line and exit 1.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
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
