// ltt-sessiond's start as lttng-sessiond's: --load PATH (file or folder) and the autoload folders
// ($LTT_HOME/.ltt/sessions/auto, $LTT_HOME/.lttng/sessions/auto) are loaded before the daemon answers, a load
// that fails stops it, lttng-sessiond's other options and positional arguments are accepted, and the daemon
// keeps the name it was started under (LTTng's test scripts find "lttng-sessiond" with pgrep).

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { EXEC_ARGV, LttTestEnv, SESSIOND_MAIN } from '../cli/ltt-test-env.js';

function sessionXml(name: string, output: string, julChannel = false): string {
  const jul = julChannel
    ? '<domain><type>JUL</type><buffer_type>PER_UID</buffer_type><channels><channel><name>lttng_jul_channel</name><enabled>true</enabled><events/></channel></channels></domain>'
    : '<domain><type>JUL</type><buffer_type>PER_UID</buffer_type><channels/></domain>';
  return `<?xml version="1.0" encoding="UTF-8"?>
<sessions><session><name>${name}</name><domains><domain><type>UST</type><buffer_type>PER_UID</buffer_type><channels>
<channel><name>c0</name><enabled>true</enabled><overwrite_mode>DISCARD</overwrite_mode><events><event><name>tp:*</name>
<enabled>true</enabled><type>TRACEPOINT</type></event></events></channel></channels></domain>${jul}</domains>
<started>false</started><output><consumer_output><enabled>true</enabled><destination><path>${output}</path></destination>
</consumer_output></output></session></sessions>
`;
}

test('--load FILE and FOLDER, LTTng options ignored, the daemon keeps its name', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const file = join(env.root, 'one.lttng');
    writeFileSync(file, sessionXml('loaded-1', join(env.root, 't1')));
    // As utils.sh starts lttng-sessiond: under that name, with a consumer daemon path and --background.
    const r = spawnSync(process.execPath, [...EXEC_ARGV, SESSIOND_MAIN, '--load', file, '--background',
      `--consumerd64-path=${env.root}/none`, '-vvv', '--verbose-consumer', 'stray-positional'],
    { env: env.env, argv0: 'lttng-sessiond', encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const pid = env.daemonPid()!;
    assert.equal(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0], 'lttng-sessiond');
    assert.match((await env.ltt('list')).stdout, /1\) loaded-1 \[inactive\]/);
    await env.cleanup();

    const folder = join(env.root, 'folder');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'a.lttng'), sessionXml('loaded-a', join(env.root, 'ta')));
    writeFileSync(join(folder, 'b.lttng'), sessionXml('loaded-b', join(env.root, 'tb'), true));
    const env2 = new LttTestEnv();
    try {
      const d = await env2.sessiond('-d', '-l', folder);
      assert.equal(d.code, 0, d.stderr);
      const list = (await env2.ltt('list')).stdout;
      assert.match(list, /loaded-a/);
      assert.match(list, /loaded-b/);
      // Its JUL domain (a channel without rules) is loaded: the user-space channel behind it.
      assert.doesNotMatch(env2.log(), /Skipped the domains/);
      assert.match((await env2.ltt('list', 'loaded-b')).stdout, /- lttng_jul_channel: \[enabled\]/);
    } finally {
      await env2.cleanup();
    }
  } finally {
    await env.cleanup();
  }
});

test('autoload: ltt and LTTng auto folders of the home; a failing load stops the daemon', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  try {
    const ltt = join(env.home, '.ltt', 'sessions', 'auto');
    const lttng = join(env.home, '.lttng', 'sessions', 'auto');
    mkdirSync(ltt, { recursive: true });
    mkdirSync(lttng, { recursive: true });
    writeFileSync(join(ltt, 'x.lttng'), sessionXml('auto-ltt', join(env.root, 'tx')));
    writeFileSync(join(lttng, 'y.lttng'), sessionXml('auto-lttng', join(env.root, 'ty')));
    // Not in auto/: not autoloaded.
    writeFileSync(join(env.home, '.ltt', 'sessions', 'z.lttng'), sessionXml('not-auto', join(env.root, 'tz')));
    const d = await env.sessiond('-d');
    assert.equal(d.code, 0, d.stderr);
    const list = (await env.ltt('list')).stdout;
    assert.match(list, /auto-ltt/);
    assert.match(list, /auto-lttng/);
    assert.doesNotMatch(list, /not-auto/);
    await env.cleanup();

    const env2 = new LttTestEnv();
    try {
      const missing = await env2.sessiond('-d', '--load', join(env2.root, 'nothing-here'));
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^Error: Session load failed: Session configuration path .*nothing-here does not exist\n$/);
      const broken = join(env2.root, 'broken.lttng');
      writeFileSync(broken, '<sessions><session>');
      const bad = await env2.sessiond('-d', '--load', broken);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /Session load failed: Invalid session configuration/);
      assert.ok(!existsSync(join(env2.rundir, 'ltt-sessiond.pid')), 'no daemon stays behind');
      const unknown = await env2.sessiond('--no-such-option');
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /Unknown option --no-such-option/);
    } finally {
      await env2.cleanup();
    }
  } finally {
    await env.cleanup();
  }
});
