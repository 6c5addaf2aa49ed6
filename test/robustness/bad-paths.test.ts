// Output folders that cannot exist (under /proc): `ltt start`, `ltt save` and a traced app each give one line
// and return at once. Node 20's recursive mkdir never returns there (it retries the parent forever); ltt walks
// the path itself (src/make-directories.ts). A bad LTT_HOME (a file, /proc, a folder the user may not write,
// a missing one that cannot be made) is refused in one line before any session exists; a missing one is made.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LttTestEnv, lttAs } from '../cli/ltt-test-env.js';
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

test('a bad LTT_HOME: one line, exit 1, no session created, no daemon spawned; a missing home is made', { timeout: 60_000 }, async () => {
  const env = new LttTestEnv();
  chmodSync(env.root, 0o755);
  const aFile = join(env.root, 'a-file');
  writeFileSync(aFile, 'not a folder\n');
  const refusal = (home: string, why: string): string => `Error: LTT_HOME ${home} cannot hold ltt's current-session file (.lttrc): ${why}\n`;
  const nobody = { uid: 65534, gid: 65534 };
  const bad: Array<[string, string, 'root' | 'nobody']> = [
    ['/etc/passwd', 'ENOTDIR: not a directory', 'root'],
    [aFile, 'ENOTDIR: not a directory', 'root'],
    [join(aFile, 'below'), 'ENOTDIR: not a directory', 'root'],
    ['/proc', 'ENOENT: no such file or directory', 'root'],
    ['/proc/ltt-no-such', 'ENOENT: no such file or directory', 'root'],
    // Another user's home (root's, 0755), and a missing home under it: nobody may write neither.
    [env.home, 'EACCES: permission denied', 'nobody'],
    [join(env.home, 'missing'), 'EACCES: permission denied', 'nobody'],
  ];
  const tryAll = async (): Promise<void> => {
    for (const [home, why, user] of bad) {
      const r = user === 'root' ? await env.lttWith({ LTT_HOME: home }, 'create', 'half') : await lttAs(nobody, { ...env.env, LTT_HOME: home }, 'create', 'half');
      assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', refusal(home, why)], `${user} with LTT_HOME=${home}`);
    }
    const set = await env.lttWith({ LTT_HOME: '/proc' }, 'set-session', 'made');
    assert.deepEqual([set.code, set.stderr], [1, refusal('/proc', 'ENOENT: no such file or directory')]);
  };
  try {
    await tryAll();
    assert.equal(env.daemonPid(), undefined, 'no daemon was spawned for a create refused at once');
    assert.ok(!existsSync(join(env.home, 'missing')));

    // A missing home is made, as the user's, like a home: the session becomes current there.
    const made = join(env.root, 'new', 'home');
    const create = await env.lttWith({ LTT_HOME: made }, 'create', 'made');
    assert.equal(create.code, 0, create.stderr);
    assert.match(create.stdout, new RegExp(`Traces will be written in ${made}/ltt-traces/made-`));
    assert.ok(statSync(made).isDirectory());
    assert.deepEqual(readdirSync(made), ['.lttrc']);
    assert.equal(readFileSync(join(made, '.lttrc'), 'utf8'), 'session=made\n');

    // With the daemon running, the refusals still leave nothing behind.
    await tryAll();
    const list = await env.ltt('--mi', 'json', 'list');
    assert.deepEqual(JSON.parse(list.stdout).output.sessions.map((x: { name: string }) => x.name), ['made']);
    assert.deepEqual(readdirSync(made), ['.lttrc'], 'no staged file left');
  } finally {
    await env.cleanup();
  }
});
