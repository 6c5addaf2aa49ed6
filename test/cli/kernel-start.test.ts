// `ltt start` of a kernel session starts no thread in the session daemon: the kernel consumer's thread and its
// channel's page reader thread were started while the session was set up (a spare of each), so tracing starts
// without a Node thread's start-up (tens of ms of CPU, up to a second on a loaded machine) beside the traced
// workload. Then the session records as usual: the reader that was handed its staging reads the rings.

import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { LttTestEnv, sleep } from './ltt-test-env.js';
import { spawnSync } from 'node:child_process';
import { events, openTrace } from '../../src/ctf/index.js';

function threadIds(pid: number): Set<string> {
  return new Set(readdirSync(`/proc/${pid}/task`));
}

test('ltt start of a kernel session starts no daemon thread; its page reader, started ahead, reads the rings', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  const session = `kstart${process.pid}`;
  try {
    const out = `${env.root}/trace`;
    assert.equal((await env.ltt('create', session, '-o', out)).code, 0);
    const ch = await env.ltt('enable-channel', '-k', '--read-timer', '20000', 'ch');
    assert.equal(ch.code, 0, ch.stderr);
    const ev = await env.ltt('enable-event', '-k', '-c', 'ch', '--syscall', 'read,write');
    assert.equal(ev.code, 0, ev.stderr);
    const pid = env.daemonPid()!;
    // The spares start asynchronously: wait until the daemon's threads have stayed the same for a second.
    let before = threadIds(pid);
    for (let stable = 0, tries = 0; stable < 10 && tries < 300; tries++) {
      await sleep(100);
      const now = threadIds(pid);
      stable = now.size === before.size && [...now].every((t) => before.has(t)) ? stable + 1 : 0;
      before = now;
    }
    const start = await env.ltt('start', session);
    assert.equal(start.code, 0, start.stderr);
    const started = [...threadIds(pid)].filter((t) => !before.has(t));
    assert.deepEqual(started, [], 'threads the daemon started at `ltt start`');
    // A start that returned means the reader took its staging: start() waits for it to be READY, else fails.
    // What it reads while the session runs: dd's system calls, a few thousand pages' worth over ~20 read timers.
    const dd = spawnSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=20000'], { encoding: 'utf8' });
    assert.equal(dd.status, 0, dd.stderr);
    await sleep(100);
    const stop = await env.ltt('stop', session);
    assert.equal(stop.code, 0, stop.stderr);
    let count = 0;
    for await (const e of events(await openTrace([`${out}/kernel`]))) if (e.name.startsWith('syscall_')) count++;
    assert.ok(count >= 40_000, `dd's system calls recorded: ${count}`);
  } finally {
    await env.ltt('destroy', session);
    await env.cleanup();
  }
});
