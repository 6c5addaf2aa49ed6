// Output folders that cannot exist (under /proc): `ltt start`, `ltt save` and a traced app each give one line
// and return at once. Node 20's recursive mkdir never returns there (it retries the parent forever); ltt walks
// the path itself (src/make-directories.ts).

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { LttTestEnv } from '../cli/ltt-test-env.js';
import { makeDirectories } from '../../src/make-directories.js';
import { DEMO, ROOT } from '../ust/helpers.js';

test('outputs under /proc: one line and a prompt return from start, save and a traced app', { timeout: 60_000 }, async () => {
  assert.throws(() => makeDirectories('/proc/ltt-no-such/dir'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
  const env = new LttTestEnv();
  try {
    assert.equal((await env.ltt('create', 'bad', '-o', '/proc/ltt-no-such/trace')).code, 0);
    assert.equal((await env.ltt('enable-event', '-u', 'app:*')).code, 0);
    const start = await env.ltt('start');
    assert.equal(start.code, 1);
    assert.equal(start.stderr, "Error: Create directory failed: /proc/ltt-no-such/trace: ENOENT: no such file or directory, mkdir '/proc/ltt-no-such'\n");
    assert.ok(start.ms < 10_000, `start took ${start.ms} ms`);
    const save = await env.ltt('save', '-o', '/proc/ltt-no-such', 'bad');
    assert.equal(save.code, 1);
    assert.match(save.stderr, /^Error: Session bad: cannot write \/proc\/ltt-no-such\/bad\.lttng: ENOENT[^\n]*\n$/);
    assert.equal((await env.ltt('list')).code, 0, 'the daemon still serves');
    const app = spawnSync(process.execPath, [DEMO, '10'], { cwd: ROOT, env: { ...env.env, LTT_UST_OUTPUT: '/proc/ltt-no-such/x' }, encoding: 'utf8', timeout: 20_000 });
    assert.equal(app.status, 0, app.stderr);
    assert.match(app.stderr, /ltt\/ust: cannot create trace directory \/proc\/ltt-no-such\/x\/ust\/pid\/[^:]+: ENOENT/);
  } finally {
    await env.cleanup();
  }
});
