// sink.utils.counter against the real babeltrace2 (`-c sink.utils.counter -p step=+0`) on corpus traces:
// same counts of every message kind, same text; sink.utils.dummy drains everything.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTrace } from '../../src/ctf/index.js';
import { runCounter, runDummy, formatCounts, emptyCounts } from '../../src/graph/sinks.js';
import { runDummyGraph } from '../../src/graph/open-trace.js';
import { openCtfFs } from '../../src/graph/source-ctf-fs.js';
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

test('the dummy sink on unmuxed streams counts what the muxed graph has', async () => {
  for (const t of ['succeed/multi-domains', 'succeed/lttng-tracefile-rotation', 'packet-seq-num/2-streams-lost-in-1']) {
    const o = await openTrace([join(CORPUS, t)]);
    assert.equal(await runDummyGraph(await openCtfFs([join(CORPUS, t)])), await runDummy(o.messages), t);
  }
});

test("the dummy sink reports the error met first in time, not the first stream's", async () => {
  // Two streams of three 4 KiB packets: the first stream (port order) is broken in its last packet, the
  // second in its second one, which the muxer reaches first.
  const dir = mkdtempSync(join(tmpdir(), 'ltt-dummy-'));
  try {
    cpSync(join(import.meta.dirname, '../../../test/view/lttng-ust-texts/traces/uid'), dir, { recursive: true });
    const files = join(dir, 'ust/uid/0/64-bit');
    const breakMagic = (file: string, at: number): void => {
      const b = readFileSync(join(files, file));
      b.writeUInt32LE(0, at);
      writeFileSync(join(files, file), b);
    };
    breakMagic('texts_0', 8192);
    breakMagic('texts_1', 4096);
    const muxed = await runDummy((await openTrace([dir])).messages).then(
      () => assert.fail('no error'),
      (e: Error) => e.message,
    );
    assert.match(muxed, /texts_1: packet at offset 4096: Invalid CTF magic/);
    await assert.rejects(runDummyGraph(await openCtfFs([dir])), (e: Error) => e.message === muxed);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('counter with the default step on the real LTTng 2.13 sample trace (peers/) matches babeltrace2', async () => {
  const peers = join(CORPUS, '../peers');
  let out = '';
  const o = await openTrace([join(peers, 'sample-ust-trace')]);
  await runCounter(o.messages, { write: (s) => (out += s) });
  assert.equal(out, readFileSync(join(peers, 'sample-ust-trace.counter.txt'), 'utf8'));
});
