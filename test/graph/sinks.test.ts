// sink.utils.counter against the real babeltrace2 (`-c sink.utils.counter -p step=+0`) on corpus traces:
// same counts of every message kind, same text; sink.utils.dummy drains everything.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openTrace } from '../../src/ctf/index.js';
import { runCounter, runDummy, formatCounts, emptyCounts } from '../../src/graph/sinks.js';
import { CORPUS } from './corpus-helpers.js';

const TRACES = [
  'succeed/multi-domains',
  'succeed/lttng-tracefile-rotation',
  'succeed/session-rotation',
  'succeed/wk-heartbeat-u',
  'succeed/ev-disc-no-ts-begin-end',
  'succeed/smalltrace',
  'packet-seq-num/2-streams-lost-in-1',
  'synthetic/all-types',
];

const haveBt2 = spawnSync('babeltrace2', ['--version']).status === 0;

for (const t of TRACES) {
  test(`counter on ${t} prints what babeltrace2's counter prints`, { skip: !haveBt2 && 'babeltrace2 not installed' }, async () => {
    const bt = spawnSync('babeltrace2', [join(CORPUS, t), '-c', 'sink.utils.counter', '-p', 'step=+0'], {
      encoding: 'utf8',
    });
    assert.equal(bt.status, 0, bt.stderr);
    let out = '';
    const o = await openTrace([join(CORPUS, t)]);
    await runCounter(o.messages, { step: 0, write: (s) => (out += s) });
    assert.equal(out, bt.stdout);
  });
}

for (const t of ['succeed/lttng-tracefile-rotation', 'succeed/succeed1', 'succeed/multi-domains']) {
  test(`counter with the default step (10000) on ${t}: same intermediate blocks as babeltrace2`, { skip: !haveBt2 && 'babeltrace2 not installed' }, async () => {
    const bt = spawnSync('babeltrace2', [join(CORPUS, t), '-c', 'sink.utils.counter'], { encoding: 'utf8' });
    assert.equal(bt.status, 0, bt.stderr);
    let out = '';
    const o = await openTrace([join(CORPUS, t)]);
    await runCounter(o.messages, { write: (s) => (out += s) });
    assert.equal(out, bt.stdout);
  });
}

test('counter with step 1000 on lttng-tracefile-rotation matches babeltrace2', { skip: !haveBt2 && 'babeltrace2 not installed' }, async () => {
  const t = 'succeed/lttng-tracefile-rotation';
  const bt = spawnSync('babeltrace2', [join(CORPUS, t), '-c', 'sink.utils.counter', '-p', 'step=+1000'], { encoding: 'utf8' });
  assert.equal(bt.status, 0, bt.stderr);
  let out = '';
  const o = await openTrace([join(CORPUS, t)]);
  await runCounter(o.messages, { step: 1000, write: (s) => (out += s) });
  assert.equal(out, bt.stdout);
});

test('counter: every step messages a block then a blank line; singular forms', () => {
  const c = emptyCounts();
  c.event = 1;
  c.streamBeginning = 1;
  assert.equal(
    formatCounts(c, true),
    '              1 Event message\n              1 Stream beginning message\n              2 messages (TOTAL)\n',
  );
});

test('dummy drains all messages', async () => {
  const o = await openTrace([join(CORPUS, 'succeed/multi-domains')]);
  assert.equal(await runDummy(o.messages), 4381);
});

test('counter with the default step on the real LTTng 2.13 sample trace (peers/) matches babeltrace2', async () => {
  const peers = join(CORPUS, '../peers');
  let out = '';
  const o = await openTrace([join(peers, 'sample-ust-trace')]);
  await runCounter(o.messages, { write: (s) => (out += s) });
  assert.equal(out, readFileSync(join(peers, 'sample-ust-trace.counter.txt'), 'utf8'));
});
