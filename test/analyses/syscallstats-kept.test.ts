// `ltt analyze syscallstats` over the whole trace keeps its per-thread, per-call statistics in the trace's
// cache at its first run (a cache another command made gets them then), so that later runs read a row per
// thread and call instead of grouping every call again; the numbers are those the test groups from the calls.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { LttTestEnv } from '../cli/ltt-test-env.js';

const skip = process.getuid?.() !== 0 ? 'needs root (tracefs)' : false;

describe('analyze: syscallstats statistics kept in the cache', { skip, timeout: 240_000 }, () => {
  let env: LttTestEnv;
  let trace: string;
  let cache: NodeJS.ProcessEnv;

  before(async () => {
    env = new LttTestEnv();
    trace = join(env.root, 'trace');
    cache = { LTT_CACHE: join(env.root, 'cache') };
    for (const step of [
      ['create', 'kept', '-o', trace],
      // sched_switch: a kernel event's thread is the one its CPU switched to.
      ['enable-event', '-k', 'sched_switch'],
      ['enable-event', '-k', '--syscall', 'read,write,openat,close'],
      ['start'],
    ]) {
      const r = await env.ltt(...step);
      assert.equal(r.code, 0, `ltt ${step.join(' ')}: ${r.stderr}`);
    }
    spawnSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=2000'], { stdio: 'ignore' });
    for (const step of [['stop'], ['destroy', 'kept']]) {
      const r = await env.ltt(...step);
      assert.equal(r.code, 0, `ltt ${step.join(' ')}: ${r.stderr}`);
    }
  });

  after(async () => {
    await env?.cleanup();
  });

  const json = async (...args: string[]): Promise<unknown> => {
    const r = await env.lttWith(cache, 'analyze', 'syscallstats', trace, '--format', 'json', ...args);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const query = async (sql: string): Promise<string> => {
    const r = await env.lttWith(cache, 'query', trace, sql, '--format', 'csv');
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  it('adds the table to a cache made without it, reads it again, with the numbers of the calls', async () => {
    // A cache made by another command: no kept statistics yet.
    assert.match(await query(`SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'analyze_syscall_stats_1'`), /^n\r?\n0\r?\n$/);
    const first = await json();
    const kept = await query(`SELECT count(*) AS groups, sum(n) AS calls FROM analyze_syscall_stats_1`);
    const [groups, calls] = kept.split(/\r?\n/)[1]!.split(',').map(Number);
    assert.ok(groups! > 0 && calls! >= 2000, `kept: ${kept}`);
    const again = await json();
    assert.deepEqual(again, first);
    // The kept rows are those grouped from the calls here, by a query of the test's own (without a cache, or over
    // the whole range given explicitly, the analysis reads the kept table too: no independent check).
    const fromCalls = await query(`SELECT tid, name, count(*) AS n, min(dur) AS lo, max(dur) AS hi, count(*) FILTER (WHERE ret < 0) AS errors
      FROM syscalls GROUP BY tid, name ORDER BY tid, name`);
    assert.equal(await query('SELECT tid, name, n, lo, hi, errors FROM analyze_syscall_stats_1 ORDER BY tid, name'), fromCalls);
    // And the analysis prints them: every thread's count per call.
    const printed = (first as { threads: { tid: number; calls: { name: string; count: number }[] }[] }).threads
      .flatMap((t) => t.calls.map((c) => `${t.tid},${c.name},${c.count}`)).sort();
    const counted = fromCalls.split(/\r?\n/).slice(1).filter((l) => l !== '').map((l) => l.split(',').slice(0, 3).join(',')).sort();
    assert.deepEqual(printed, counted);
    assert.deepEqual(await json('--no-cache'), first);
    const top = (first as { threads: { tid: number; calls: { name: string; count: number }[] }[] }).threads;
    assert.ok(top.some((t) => t.calls.some((c) => (c.name === 'read' || c.name === 'write') && c.count >= 1000)), 'dd\'s reads and writes');
  });
});
