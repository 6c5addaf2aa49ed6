// `ltt list SESSION` statistics are the tracer's real counts: a tiny kernel channel flooded with system calls
// discards events, and the "Discarded events: N" line (and the MI discarded_events) equals the sum of what
// babeltrace2 reports from the trace's packet headers ("Tracer discarded N events").

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { LttTestEnv } from './ltt-test-env.js';

test('Discarded events in list equals what the trace says', { timeout: 120_000 }, async () => {
  const env = new LttTestEnv();
  const output = join(env.root, 'flood');
  const session = `flood${process.pid}`;
  try {
    const steps = [
      ['create', session, '-o', output],
      ['enable-channel', '-k', '--subbuf-size=4096', '--num-subbuf=2', '--read-timer=1000000', 'small'],
      ['enable-event', '-k', '-c', 'small', '--syscall', '-a'],
      ['start'],
    ];
    for (const step of steps) {
      const r = await env.ltt(...step);
      assert.equal(r.code, 0, `ltt ${step.join(' ')}: ${r.stderr}`);
    }
    // A burst of system calls far beyond 2 x 4 KiB per CPU between two reads.
    spawnSync('find', ['/usr', '-name', '*.h'], { stdio: 'ignore' });
    assert.equal((await env.ltt('stop')).code, 0);
    const list = await env.ltt('list', session);
    const match = /\n {6}Discarded events: (\d+)\n/.exec(list.stdout);
    assert.ok(match, list.stdout);
    const listed = Number(match[1]);
    const mi = JSON.parse((await env.ltt('--mi', 'json', 'list', session)).stdout);
    assert.equal(mi.output.sessions[0].domains[0].channels[0].attributes.discarded_events, listed);

    const bt = spawnSync('babeltrace2', [output], { encoding: 'utf8', maxBuffer: 1 << 30 });
    assert.equal(bt.status, 0, bt.stderr);
    const fromTrace = [...bt.stderr.matchAll(/discarded (\d+) events?\b/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    assert.ok(listed > 0, 'the flood overflowed the tiny channel');
    assert.equal(listed, fromTrace);
    assert.equal((await env.ltt('destroy')).code, 0);
  } finally {
    await env.cleanup();
  }
});
