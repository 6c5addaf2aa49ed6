// `ltt regenerate statedump` with the real CLI, daemon and kernel: a recording session gets a second state
// dump (lttng_statedump_start ... _end again, processes included); an inactive session, a missing object and
// `metadata` get LTTng's one-line errors.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { LttTestEnv, type RunResult } from './ltt-test-env.js';

async function ok(env: LttTestEnv, ...args: string[]): Promise<RunResult> {
  const r = await env.ltt(...args);
  assert.equal(r.code, 0, `ltt ${args.join(' ')}: ${r.stderr}`);
  return r;
}

test('regenerate statedump: a second state dump in a recording session; one-line errors', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const out = join(env.root, 'trace');
    await ok(env, 'create', 'dump', '-o', out);
    await ok(env, 'enable-event', '-k', 'lttng_statedump_*');
    const inactive = await env.ltt('regenerate', 'statedump');
    assert.deepEqual([inactive.code, inactive.stderr], [1, 'Error: Failed to regenerate the state dump: Session not started\n']);
    await ok(env, 'start');
    assert.equal((await ok(env, 'regenerate', 'statedump')).stdout, 'State dump successfully regenerated for session dump\n');
    await ok(env, 'regenerate', '-s', 'dump', 'statedump');
    await ok(env, 'stop');
    const bt = spawnSync('babeltrace2', [out], { encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(bt.status, 0, bt.stderr);
    const count = (name: string) => bt.stdout.split('\n').filter((l) => l.includes(` ${name}: `)).length;
    assert.equal(count('lttng_statedump_start'), 3, 'the dump at start and two regenerated ones');
    assert.equal(count('lttng_statedump_end'), 3);
    assert.ok(count('lttng_statedump_process_state') >= 3 * 10, 'every dump lists the processes');
    const none = await env.ltt('regenerate');
    assert.deepEqual([none.code, none.stderr.split('\n')[0]], [1, 'Error: No object specified for regenerate command.']);
    const metadata = await env.ltt('regenerate', 'metadata');
    assert.deepEqual([metadata.code, metadata.stderr], [1, 'Error: Failed to regenerate metadata: Operation not supported by ltt\n']);
    await ok(env, 'destroy');
  } finally {
    await env.cleanup();
  }
});
