// ltt analyze on the traces users really have: one that lost events (a tiny channel flooded with system
// calls) says in one line how many and where, and still answers; one without the events an analysis needs
// names the `ltt enable-event` command; an active session's trace is analysed as it grows (the table cache
// is keyed by the files' sizes and mtimes, so a second analysis sees what was written since the first).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { LttTestEnv, sleep } from '../cli/ltt-test-env.js';

const skip = process.getuid?.() !== 0 ? 'needs root (tracefs)' : false;

test('a trace that lost events: one warning line with the count and the span, then the results', { skip, timeout: 240_000 }, async () => {
  const env = new LttTestEnv();
  const output = join(env.root, 'flood');
  try {
    for (const step of [
      ['create', 'flood', '-o', output],
      ['enable-channel', '-k', '--subbuf-size=4096', '--num-subbuf=2', '--read-timer=1000000', 'small'],
      ['enable-event', '-k', '-c', 'small', 'sched_switch'],
      ['enable-event', '-k', '-c', 'small', '--syscall', '-a'],
      ['start'],
    ]) {
      const r = await env.ltt(...step);
      assert.equal(r.code, 0, `ltt ${step.join(' ')}: ${r.stderr}`);
    }
    spawnSync('find', ['/usr', '-name', '*.h'], { stdio: 'ignore' });
    assert.equal((await env.ltt('stop')).code, 0);
    const list = await env.ltt('list', 'flood');
    const discarded = [...list.stdout.matchAll(/Discarded events: (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
    assert.ok(discarded > 0, 'the flood overflowed the tiny channel');
    assert.equal((await env.ltt('destroy', 'flood')).code, 0);

    const r = await env.ltt('analyze', 'syscallstats', output, '--top', '2');
    assert.equal(r.code, 0, r.stderr);
    const warnings = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(warnings.length, 1, r.stderr);
    const m = /^Warning: (\d+) events were lost between (\d+) and (\d+) ns \((\d+) gaps?\): results there are incomplete\.$/.exec(warnings[0]!);
    assert.ok(m, warnings[0]);
    assert.equal(Number(m[1]), discarded, 'the warning counts what the tracer discarded');
    assert.ok(BigInt(m[2]!) <= BigInt(m[3]!));
    assert.match(r.stdout, /^Per-TID syscalls statistics/m);

    // The analyses whose events the trace lacks say which command records them.
    const mem = await env.ltt('analyze', 'memtop', output);
    assert.equal(mem.code, 1);
    assert.match(mem.stderr, /^Error: memtop needs kmem_mm_page_alloc, kmem_mm_page_free events, which the trace lacks: record them with `ltt enable-event -k kmem_mm_page_alloc,kmem_mm_page_free`\n$/m);
    assert.doesNotMatch(mem.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    await env.cleanup();
  }
});

test('an active session: analysed while recording, and again after more was written', { skip, timeout: 240_000 }, async () => {
  const env = new LttTestEnv();
  const output = join(env.root, 'live');
  try {
    for (const step of [
      ['create', 'live', '-o', output],
      ['enable-channel', '-k', '--switch-timer=100000', 'chan'],
      ['enable-event', '-k', '-c', 'chan', 'sched_switch,sched_process_fork,sched_process_exec,sched_process_exit'],
      ['enable-event', '-k', '-c', 'chan', '--syscall', 'getppid'],
      ['start'],
    ]) {
      const r = await env.ltt(...step);
      assert.equal(r.code, 0, `ltt ${step.join(' ')}: ${r.stderr}`);
    }
    // A process named for this test, calling getppid a known number of times.
    const burst = (n: number): void => {
      const r = spawnSync('/usr/bin/python3', ['-c', `import os\nfor _ in range(${n}): os.getppid()`], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    const calls = async (): Promise<number> => {
      const r = await env.ltt('analyze', 'syscallstats', 'live', '--procname', 'python3', '--format', 'json');
      assert.equal(r.code, 0, r.stderr);
      const threads = (JSON.parse(r.stdout) as { threads: { calls: { name: string; count: number }[] }[] }).threads;
      return threads.flatMap((t) => t.calls).filter((c) => c.name === 'getppid').reduce((a, c) => a + c.count, 0);
    };
    burst(300);
    // The switch timer flushes sub-buffers every 100 ms; the daemon then writes them to the trace.
    let first = 0;
    for (let i = 0; i < 50 && first < 300; i++) {
      await sleep(200);
      first = await calls();
    }
    assert.ok(first >= 300, `getppid calls seen while recording: ${first}`);
    burst(500);
    let second = 0;
    for (let i = 0; i < 50 && second < first + 500; i++) {
      await sleep(200);
      second = await calls();
    }
    assert.ok(second >= first + 500, `after 500 more calls: ${second} (was ${first}): a stale cache?`);
    const threads = await env.ltt('analyze', 'threads', 'live', '--procname', 'python3');
    assert.equal(threads.code, 0, threads.stderr);
    assert.match(threads.stdout, /^\s+\d+\s+\d+\s+.*python3/m);
    assert.equal((await env.ltt('destroy', 'live')).code, 0);
  } finally {
    await env.cleanup();
  }
});
