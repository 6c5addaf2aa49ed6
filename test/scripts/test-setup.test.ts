// `npm test`'s set-up (scripts/test-setup.mjs), run for real: on this machine, where everything is in place, it
// says nothing; with a dpkg-query on PATH that reports packages missing (the test must not remove packages from
// the machine), it stops in one line naming the install command when not root (run as `nobody`), and as root it
// runs apt-get (a stand-in on PATH that records its arguments: nothing is installed) after one line, or stops in
// one line when apt-get fails.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../repo-paths.js';

const SCRIPT = join(REPO_ROOT, 'scripts', 'test-setup.mjs');
const NOBODY = 65534;

/** A folder everyone can read with a copy of the script, and bin/ with dpkg-query (and maybe apt-get) stand-ins. */
function fakeTools(aptGet?: string): { dir: string; script: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync('/tmp/ltt-setup-');
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'bin'));
  writeFileSync(
    join(dir, 'bin', 'dpkg-query'),
    '#!/bin/sh\n# dpkg-query -W -f=${Status} PKG\ncase " $MISSING " in *" $3 "*) echo "dpkg-query: no packages found matching $3" >&2; exit 1;; esac\nprintf "install ok installed"\n',
    { mode: 0o755 },
  );
  if (aptGet !== undefined) writeFileSync(join(dir, 'bin', 'apt-get'), `#!/bin/sh\necho "$@" >> ${dir}/apt.log\n${aptGet}\n`, { mode: 0o755 });
  const script = join(dir, 'test-setup.mjs');
  copyFileSync(SCRIPT, script);
  return { dir, script, env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` } };
}

function setup(script: string, env: NodeJS.ProcessEnv, uid?: number) {
  const r = spawnSync(process.execPath, [script], { env, encoding: 'utf8', cwd: '/', timeout: 60_000, ...(uid !== undefined ? { uid, gid: uid } : {}) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('on this machine (root, every package installed, tracefs mounted) the set-up says nothing', () => {
  assert.deepEqual(setup(SCRIPT, process.env), { code: 0, stdout: '', stderr: '' });
});

test('not root, packages missing: one line naming the command that installs them, exit 1', () => {
  const t = fakeTools();
  try {
    const r = setup(t.script, { ...t.env, MISSING: 'trace-cmd python3-bt2' }, NOBODY);
    assert.deepEqual(r, {
      code: 1,
      stdout: '',
      stderr: 'npm test: missing Debian packages the tests need: run `sudo apt-get update && sudo apt-get install -y python3-bt2 trace-cmd` (or `sudo npm test`, which installs them)\n',
    });
    const none = setup(t.script, t.env, NOBODY);
    assert.deepEqual(none, { code: 1, stdout: '', stderr: 'npm test: the tests drive tracefs and run commands as other users: run `sudo npm test`\n' });
  } finally {
    rmSync(t.dir, { recursive: true, force: true });
  }
});

test('root, packages missing: apt-get update and install -y of exactly those, after one line; a failing apt-get stops in one line', () => {
  const ok = fakeTools('exit 0');
  const failing = fakeTools('[ "$1" = update ] || { echo "E: Unable to locate package lttng-tools" >&2; exit 100; }');
  try {
    // The checkout's script (its tracefs step may load the build); the stand-ins come first on PATH.
    const r = setup(SCRIPT, { ...ok.env, MISSING: 'lttng-tools gcc' });
    assert.deepEqual(r, { code: 0, stdout: 'npm test: installing lttng-tools gcc (apt-get)\n', stderr: '' });
    assert.equal(readFileSync(join(ok.dir, 'apt.log'), 'utf8'), 'update -qq\ninstall -y -qq lttng-tools gcc\n');
    const bad = setup(SCRIPT, { ...failing.env, MISSING: 'lttng-tools' });
    assert.deepEqual(bad, {
      code: 1,
      stdout: 'npm test: installing lttng-tools (apt-get)\n',
      stderr: 'npm test: apt-get install -y -qq lttng-tools failed: E: Unable to locate package lttng-tools\n',
    });
  } finally {
    rmSync(ok.dir, { recursive: true, force: true });
    rmSync(failing.dir, { recursive: true, force: true });
  }
});

// debugfs goes too: where it is mounted, /sys/kernel/debug/tracing is an automount that brings tracefs back.
test('root, tracefs not mounted: the set-up mounts it (in a private mount namespace: the machine keeps its own)', () => {
  const r = spawnSync(
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', 'for d in /sys/kernel/debug/tracing /sys/kernel/debug /sys/kernel/tracing; do umount "$d" 2>/dev/null; done; [ ! -e /sys/kernel/tracing/events/header_page ] || exit 9; "$0" "$1" && grep -c "^[^ ]* /sys/kernel/tracing tracefs " /proc/mounts', process.execPath, SCRIPT],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.deepEqual([r.status, r.stdout, r.stderr], [0, '1\n', '']);
});
