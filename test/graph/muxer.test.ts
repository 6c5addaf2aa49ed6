// Muxer clock compatibility (first clock decides; --clock-force-correlate makes every clock Unix-epoch based)
// and the tie-break order of messages at the same time, compared with the real babeltrace2.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { isLttError } from '../../src/errors.js';
import { CORPUS, eventHead, run } from './corpus-helpers.js';

const haveBt2 = spawnSync('babeltrace2', ['--version']).status === 0;

function bt2(args: string[]): { status: number | null; stdout: string } {
  const r = spawnSync('babeltrace2', args, { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  return { status: r.status, stdout: r.stdout };
}

test('a clock-less trace with a clocked one: MUXER_CLOCK error, as babeltrace2 fails', { skip: !haveBt2 && 'no babeltrace2' }, async () => {
  const paths = [join(CORPUS, 'succeed/smalltrace'), join(CORPUS, 'succeed/wk-heartbeat-u')];
  assert.notEqual(bt2(paths).status, 0);
  const { error, messages } = await run(paths);
  assert.ok(isLttError(error));
  assert.equal(error.code, 'MUXER_CLOCK');
  assert.equal(messages.length, 0, 'nothing is emitted before the clock check');
});

test('non-Unix-epoch clock then an LTTng (Unix-epoch) clock: error; force-correlate accepts both', { skip: !haveBt2 && 'no babeltrace2' }, async () => {
  const paths = [join(CORPUS, 'succeed/barectf-event-before-packet'), join(CORPUS, 'succeed/wk-heartbeat-u')];
  const plain = bt2(paths);
  const forced = bt2(['--clock-force-correlate', ...paths]);
  assert.notEqual(plain.status, 0);
  assert.equal(forced.status, 0);
  const a = await run(paths);
  assert.ok(isLttError(a.error));
  assert.equal(a.error.code, 'MUXER_CLOCK');
  const b = await run(paths, { forceClockOriginUnixEpoch: true });
  assert.equal(b.error, undefined);
  const expected = forced.stdout.split('\n').filter((l) => l.length > 0);
  const heads = b.messages.map(eventHead).filter((h) => h !== undefined);
  assert.equal(heads.length, expected.length);
  heads.forEach((h, i) => assert.ok(expected[i]!.startsWith(h!.stamp) && expected[i]!.includes(h!.name), `line ${i + 1}`));
});

test('two traces interleaved in babeltrace2 order', { skip: !haveBt2 && 'no babeltrace2' }, async () => {
  // Two LTTng traces (different UUIDs, hostnames and stream layouts) interleaved by time.
  const paths = [join(CORPUS, 'succeed/multi-domains/ust'), join(CORPUS, 'succeed/wk-heartbeat-u')];
  const ref = bt2(paths);
  assert.equal(ref.status, 0);
  const expected = ref.stdout.split('\n').filter((l) => l.length > 0);
  const { error, messages } = await run(paths);
  assert.equal(error, undefined);
  const heads = messages.map(eventHead).filter((h) => h !== undefined);
  assert.equal(heads.length, expected.length);
  heads.forEach((h, i) => assert.ok(expected[i]!.startsWith(h!.stamp) && expected[i]!.includes(h!.name), `line ${i + 1}`));
});
