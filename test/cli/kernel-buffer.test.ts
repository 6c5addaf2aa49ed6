// The kernel decides the ring buffer's sub-buffer size (kernels before 6.8 have no buffer_subbuf_size_kb, some
// refuse every write to it, others round): `ltt enable-channel -k` warns when it kept another size than asked,
// `ltt list` shows the size it applied (read from the channel's own tracefs instance here), and a channel
// records whatever the size (the trace is read back by the viewer).

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LttTestEnv } from './ltt-test-env.js';

/** The sub-buffer size of the channel's instance, as the kernel reports it (one page where it has no choice). */
function appliedSubbufSize(session: string, channel: string): number {
  const file = join('/sys/kernel/tracing/instances', `ltt-${session}-${channel}`, 'buffer_subbuf_size_kb');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) * 1024 : 4096;
}

test('enable-channel -k and list say which ring-buffer sub-buffer size the kernel applied; each size records', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  const session = `kbuf${process.pid}`;
  try {
    const create = await env.ltt('create', session);
    assert.equal(create.code, 0, create.stderr);
    const asked = { c4k: 4096, c16k: 16384, c64k: 65536, c1m: 1 << 20 };
    const applied = new Map<string, number>();
    for (const [channel, size] of Object.entries(asked)) {
      const enable = await env.ltt('enable-channel', '-k', '--subbuf-size', String(size), '--num-subbuf', '4', channel);
      assert.equal(enable.code, 0, enable.stderr);
      assert.equal(enable.stdout, `kernel channel ${channel} enabled for session ${session}\n`);
      const real = appliedSubbufSize(session, channel);
      applied.set(channel, real);
      // ftrace sub-buffers go up to 64 KiB: a 1 MiB channel asks for 64 KiB ones.
      const wanted = Math.min(size, 65536);
      if (real === wanted) assert.equal(enable.stderr, '', `${channel}: no warning when the kernel applied ${wanted}`);
      else {
        assert.equal(
          enable.stderr,
          `Warning: The kernel kept ${real}-byte ring-buffer sub-buffers for channel ${channel} (${wanted} asked); CTF packets stay ${size} bytes\n`,
        );
      }
      const ev = await env.ltt('enable-event', '-k', '-c', channel, 'sched_switch');
      assert.equal(ev.code, 0, ev.stderr);
    }
    const list = await env.ltt('list', session);
    assert.equal(list.code, 0, list.stderr);
    for (const [channel, size] of Object.entries(asked)) {
      const wanted = Math.min(size, 65536);
      const real = applied.get(channel)!;
      const kept = real !== wanted ? ` (kernel kept, ${wanted} asked)` : '';
      assert.match(
        list.stdout,
        new RegExp(`- ${channel}: \\[enabled\\][^]*?Sub-buffer size:  ${size} bytes[^]*?Output mode:      splice\\n      Kernel buffer:    ${real}-byte sub-buffers${kept.replace(/[()]/g, '\\$&')}, \\d+ bytes per CPU\\n`),
      );
    }
    const mi = await env.ltt('--mi', 'json', 'list', session);
    assert.equal(mi.code, 0, mi.stderr);
    assert.match(mi.stdout, new RegExp(`"kernel_subbuffer_size":${applied.get('c64k')},"kernel_subbuffer_size_requested":65536`));

    assert.equal((await env.ltt('start')).code, 0);
    spawnSync('sleep', ['0.5']);
    assert.equal((await env.ltt('stop')).code, 0);
    const view = await env.ltt('view');
    assert.equal(view.code, 0, view.stderr);
    assert.ok(view.stdout.includes('sched_switch: '), 'sched_switch recorded');
    const kernelDir = join(create.stdout.match(/Traces will be written in (.*)\n/)![1]!, 'kernel');
    for (const channel of Object.keys(asked)) {
      const bytes = readdirSync(kernelDir).filter((f) => f.startsWith(`${channel}_`)).reduce((a, f) => a + statSync(join(kernelDir, f)).size, 0);
      assert.ok(bytes > 0, `${channel} (${applied.get(channel)}-byte sub-buffers) wrote packets`);
    }
    assert.equal((await env.ltt('destroy')).code, 0);
  } finally {
    await env.cleanup();
  }
});
