// ltt-relayd's command line: lttng-relayd's options and defaults. The default ports are checked in a private
// network namespace (nothing else on the machine listens there), with -d returning once the daemon listens.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRelayArgs } from '../../src/relay/relay-options.js';
import { LTT_RELAYD } from './relay-helpers.js';

test('defaults: control and data on every address, live on localhost, output $LTT_HOME/ltt-traces', () => {
  const a = parseRelayArgs([], { LTT_HOME: '/home/x' });
  assert.deepEqual([a.control, a.data, a.live], [
    { host: '0.0.0.0', port: 5342 },
    { host: '0.0.0.0', port: 5343 },
    { host: 'localhost', port: 5344 },
  ]);
  assert.equal(a.output, '/home/x/ltt-traces');
  assert.equal(a.allowClear, true);
  assert.equal(a.daemonize, false);
});

test('options as lttng-relayd takes them', () => {
  const a = parseRelayArgs(['-C', 'tcp://127.0.0.1:7000', '--data-port=tcp://[::1]:7001', '-Ltcp://0.0.0.0', '-o', '/tmp/o', '-x', '-b', '-g', 'grp'], {});
  assert.deepEqual([a.control, a.data, a.live], [
    { host: '127.0.0.1', port: 7000 },
    { host: '::1', port: 7001 },
    { host: '0.0.0.0', port: 5344 },
  ]);
  assert.equal(a.output, '/tmp/o');
  assert.equal(a.allowClear, false);
  assert.equal(a.daemonize, true);
  assert.equal(a.group, 'grp');
  assert.equal(parseRelayArgs(['-d'], {}).daemonize, true);
  assert.equal(parseRelayArgs([], { LTTNG_RELAYD_DISALLOW_CLEAR: '1' }).allowClear, false);
});

test('--version, --help, and bad arguments: one line, exit 1', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [LTT_RELAYD, ...args], { encoding: 'utf8' });
  const v = run('--version');
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^ltt-relayd \d+\.\d+\.\d+\n$/);
  const h = run('--help');
  assert.equal(h.status, 0);
  for (const o of ['--control-port', '--data-port', '--live-port', '--output', '--daemonize', '--background', '--group', '--disallow-clear']) assert.ok(h.stdout.includes(o), o);
  for (const [args, message] of [
    [['--bogus'], 'Error: Unknown option --bogus'],
    [['-C', 'http://x:1'], 'Error: Invalid URL "http://x:1" (expected tcp://HOST:PORT)'],
    [['-D', 'tcp://h:70000'], 'Error: Invalid port in "tcp://h:70000"'],
    [['-o'], 'Error: Option -o needs a value'],
  ] as const) {
    const r = run(...args);
    assert.equal(r.status, 1, args.join(' '));
    assert.equal(r.stderr.split('\n')[0], message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

const noNetns = process.getuid?.() !== 0 || !existsSync('/usr/bin/unshare') || !existsSync('/usr/bin/ss') ? 'needs root, unshare and ss' : false;

test('-d returns once the default ports listen (private network namespace), the daemon keeps its name', { skip: noNetns, timeout: 60_000 }, () => {
  const home = mkdtempSync(join(tmpdir(), 'ltt-relay-defaults-'));
  try {
    // In the namespace: start detached under lttng-relayd's name (scripts find the daemon by it: LTTng's
    // utils.sh lttng_pgrep), list the listeners at once, then stop the daemon by its listener's pid.
    const script = `ip link set lo up
(LTT_HOME=${home} exec -a lttng-relayd "${process.execPath}" "${LTT_RELAYD}" -d) || exit 9
ss -ltnH
pid=$(ss -ltnpH 'sport = :5342' | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
echo "argv0 $(cut -d '' -f1 /proc/$pid/cmdline)"
kill "$pid"`;
    const r = spawnSync('unshare', ['-n', 'bash', '-c', script], { encoding: 'utf8', timeout: 50_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^argv0 lttng-relayd$/m);
    const listening = r.stdout.split('\n').filter((l) => !l.startsWith('argv0')).map((l) => l.trim().split(/\s+/)[3]).filter(Boolean).sort();
    assert.ok(listening.includes('0.0.0.0:5342'), r.stdout);
    assert.ok(listening.includes('0.0.0.0:5343'), r.stdout);
    assert.ok(listening.includes('127.0.0.1:5344') || listening.includes('[::1]:5344'), r.stdout);
    assert.equal(listening.length, 3, r.stdout);
    assert.ok(existsSync(join(home, 'ltt-traces')), 'default output made');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
