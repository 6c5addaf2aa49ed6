// Message order and discarded-items messages against babeltrace2 2.0.4's expected runs: for every manifest
// run our source → (trimmers) → muxer graph must produce the events in the same order (same timestamp and
// event name per line when printed in the default UTC format) and the same discarded events/packets
// warnings (count, time range, trace name, stream). Runs that use only pretty-printing options are checked
// for order and names; --begin/--end runs are checked with the range converted by hand.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isLttError } from '../../src/errors.js';
import type { OpenTraceOptions } from '../../src/ctf/index.js';
import { CORPUS, discardedWarning, eventHead, lines, manifest, run } from './corpus-helpers.js';

const PRINT_ONLY = new Set(['--clock-seconds', '--clock-date', '--clock-gmt', '--clock-cycles', '--no-delta']);

for (const entry of manifest()) {
  const paths: string[] = [];
  const opts: { -readonly [K in keyof OpenTraceOptions]: OpenTraceOptions[K] } = {};
  let defaultFormat = entry.TZ === 'UTC';
  let supported = true;
  for (let i = 0; i < entry.args.length; i++) {
    const a = entry.args[i]!;
    if (a === '--stream-intersection') opts.streamIntersection = true;
    else if (a.startsWith('--clock-offset=')) opts.clockOffsetS = Number(a.slice('--clock-offset='.length));
    else if (a.startsWith('--clock-offset-ns=')) opts.clockOffsetNs = BigInt(a.slice('--clock-offset-ns='.length));
    else if (a === '-n' || a === '-f') {
      defaultFormat = false;
      i++;
    } else if (a.startsWith('--names') || a.startsWith('--fields') || PRINT_ONLY.has(a)) defaultFormat = false;
    else if (a.startsWith('-')) supported = false;
    else paths.push(join(CORPUS, a));
  }
  if (!supported) continue;
  const title = `babeltrace2 ${entry.args.join(' ')}`;
  test(title, async () => {
    const expected = lines(entry.stdout);
    const expectedWarnings = entry.stderr ? lines(entry.stderr).filter((l) => l.startsWith('WARNING: Tracer')) : [];
    const { messages, error } = await run(paths, opts);
    // 2.0.4 aborts on meta-ctx-sequence; upstream prints nothing and succeeds (corpus README).
    const mustFail = entry.exit !== 0 && !entry.args.includes('succeed/meta-ctx-sequence');
    if (mustFail) assert.ok(isLttError(error), `expected an LttError, got ${String(error)}`);
    else assert.equal(error, undefined, `unexpected error: ${(error as Error | undefined)?.message}`);
    let li = 0;
    let wi = 0;
    for (const m of messages) {
      const w = discardedWarning(m);
      if (w !== undefined) {
        const exp = expectedWarnings[wi++];
        assert.ok(exp !== undefined, `unexpected warning ${w}`);
        if (defaultFormat) assert.equal(w, exp);
        continue;
      }
      const head = eventHead(m);
      if (!head) continue;
      const line = expected[li++];
      assert.ok(line !== undefined, `extra event ${head.stamp} ${head.name}`);
      if (defaultFormat) assert.ok(line.startsWith(head.stamp), `line ${li}: ${head.stamp} vs ${line.slice(0, 60)}`);
      assert.ok(line.includes(head.name), `line ${li}: event ${head.name} vs ${line.slice(0, 80)}`);
    }
    assert.equal(li, expected.length, 'event count');
    assert.equal(wi, expectedWarnings.length, 'warning count');
  });
}

test('--begin/--end keep the events of babeltrace2 --timerange (trimmer after auto-seek)', async () => {
  const ns = (hms: string, frac: string): bigint =>
    BigInt(Date.parse(`2012-10-29T${hms}Z`)) * 1_000_000n + BigInt(frac);
  const beginNs = ns('17:48:17', '587029529');
  const endNs = ns('17:48:17', '588680018');
  for (const file of ['expected/options/wk-heartbeat-u/timerange-date.txt', 'expected/options/wk-heartbeat-u/begin-end-gmt.txt']) {
    const expected = lines(file);
    const { messages, error } = await run([join(CORPUS, 'succeed/wk-heartbeat-u')], { beginNs, endNs });
    assert.equal(error, undefined);
    const heads = messages.map(eventHead).filter((h) => h !== undefined);
    assert.equal(heads.length, expected.length);
    heads.forEach((h, i) => assert.ok(expected[i]!.startsWith(h!.stamp) && expected[i]!.includes(h!.name)));
  }
});

test('--stream-intersection without any common time is an LttError', async () => {
  const { error } = await run([join(CORPUS, 'intersection/nointersect')], { streamIntersection: true });
  assert.ok(isLttError(error));
  assert.equal(error.code, 'TRIMMER_RANGE');
});

test('deterministic-ordering: duplicate packets are kept once, first path wins', async () => {
  // b and c share a UUID; c duplicates b's packet: the merged source prints b+c's events once each.
  const { messages, error } = await run([
    join(CORPUS, 'deterministic-ordering/b-not-corrupted'),
    join(CORPUS, 'deterministic-ordering/c-corrupted'),
  ]);
  assert.equal(error, undefined);
  const streams = new Set(messages.map((m) => (m.type === 'inactivity' ? '' : m.stream.name)));
  assert.equal(streams.size, 1, 'one data stream after merging the two traces');
  assert.equal(messages.filter((m) => m.type === 'event').length, lines('expected/deterministic-ordering/b+c.txt').length);
});

test('packet-seq-num: gaps become discarded-packets messages; a first packet not at 0 is no loss', async () => {
  const lost = await run([join(CORPUS, 'packet-seq-num/2-lost-before-last')]);
  const d = lost.messages.filter((m) => m.type === 'discarded-packets');
  assert.equal(d.length, 1);
  assert.equal(d[0]!.type === 'discarded-packets' && d[0]!.count, 2);
  const notZero = await run([join(CORPUS, 'packet-seq-num/no-lost-not-starting-at-0')]);
  assert.equal(notZero.messages.filter((m) => m.type === 'discarded-packets').length, 0);
});

// CTF 2 twins (ctf2/succeed/*): same data streams as the CTF 1 traces, so the same events in the same order
// as babeltrace2 printed for the CTF 1 version (corpus README).
for (const name of readdirSync(join(CORPUS, 'ctf2/succeed')).sort()) {
  const twin = `expected/${name}.txt`;
  if (!existsSync(join(CORPUS, twin))) continue;
  test(`CTF 2 ${name}: events of its CTF 1 twin, same order`, async () => {
    const expected = lines(twin);
    const { messages, error } = await run([join(CORPUS, 'ctf2/succeed', name)]);
    assert.equal(error, undefined, `unexpected error: ${(error as Error | undefined)?.message}`);
    const heads = messages.map(eventHead).filter((h) => h !== undefined);
    assert.equal(heads.length, expected.length);
    heads.forEach((h, i) => assert.ok(expected[i]!.startsWith(h!.stamp) && expected[i]!.includes(h!.name), `line ${i + 1}`));
  });
}
