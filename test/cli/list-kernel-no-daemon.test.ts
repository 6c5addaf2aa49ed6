// `ltt list -k` as root with no daemon running reads the kernel catalog in process (kernel/kernel-catalog.ts, the
// same listing the daemon answers with), and starts no daemon.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { LttTestEnv } from './ltt-test-env.js';

test('list -k and list -k --syscall without a daemon', { timeout: 60_000, skip: process.getuid?.() === 0 ? false : 'needs root' }, async () => {
  const env = new LttTestEnv();
  try {
    const kernel = await env.ltt('list', '-k');
    assert.equal(kernel.code, 0, kernel.stderr);
    const lines = kernel.stdout.split('\n');
    assert.deepEqual(lines.slice(0, 2), ['Kernel events:', '-------------']);
    assert.ok(lines.includes('      sched_switch (loglevel: TRACE_EMERG (0)) (type: tracepoint)'));
    const syscalls = await env.ltt('list', '-k', '--syscall');
    assert.equal(syscalls.code, 0, syscalls.stderr);
    assert.match(syscalls.stdout, /^System calls:\n-------------\n[^]*\n {6}openat \[64-bit\]\n/);
    const mi = JSON.parse((await env.ltt('--mi', 'json', 'list', '-k')).stdout);
    assert.ok(mi.output.domains[0].events.some((e: { name: string }) => e.name === 'sched_switch'));
    assert.equal(env.daemonPid(), undefined, 'no daemon started');
  } finally {
    await env.cleanup();
  }
});
