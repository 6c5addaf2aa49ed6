// `npm start` (scripts/start.mjs) on a machine where nothing mounted tracefs yet (a private mount namespace with
// tracefs unmounted; the machine keeps its own): it mounts tracefs as ltt does, then finds this kernel's
// syscall tracepoints and traces them with the scheduler. Before, it looked for events/syscalls before
// mounting and traced the scheduler only.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../repo-paths.js';

test('npm start with tracefs unmounted mounts it, then traces system calls too', { timeout: 120_000 }, (t) => {
  if (!existsSync('/sys/kernel/tracing/events/syscalls')) return t.skip('this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS)');
  const r = spawnSync(
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', 'for d in /sys/kernel/debug/tracing /sys/kernel/debug /sys/kernel/tracing; do umount "$d" 2>/dev/null; done; [ ! -e /sys/kernel/tracing/events/header_page ] || exit 9; exec "$0" "$1"', process.execPath, join(REPO_ROOT, 'scripts', 'start.mjs')],
    { encoding: 'utf8', timeout: 110_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes('$ ltt enable-event -k --syscall -a\n'), r.stdout);
  assert.ok(!r.stdout.includes('no syscall tracepoints'), r.stdout);
  assert.match(r.stdout, /\n {2}syscall_(entry|exit)_\w+ +\d+\n/, 'system calls were recorded');
  const trace = /\nTrace: (\S+)\n/.exec(r.stdout)?.[1];
  assert.ok(trace !== undefined, r.stdout);
  spawnSync('rm', ['-rf', trace]);
});
