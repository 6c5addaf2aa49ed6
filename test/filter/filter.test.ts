// LTTng filter language: parsing (LTTng precedence), tracefs translation, consumer-side predicates.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseFilter } from '../../src/filter/parse-filter.js';
import { compilePredicate, toTracefsFilter } from '../../src/filter/compile-filter.js';
import { readEventFormat } from '../../src/ftrace/event-format.js';
import { shapeEvent } from '../../src/ftrace/lttng-shaping.js';

const noCtx = { get: () => undefined };

test('bitwise binds tighter than comparisons (2 & 2 == 2 is true)', () => {
  const p = compilePredicate(parseFilter('2 & 2 == 2'), []);
  assert.equal(p([], noCtx), true);
  const q = compilePredicate(parseFilter('a & 0xff7 == 0x240 && b[1] >> 4 <= 0x12'), ['a', 'b']);
  assert.equal(q([0x240, [0, 0x120]], noCtx), true);
  assert.equal(q([0x241, [0, 0x120]], noCtx), false);
});

test('missing fields, out-of-range indexes and bad shifts make the expression false', () => {
  assert.equal(compilePredicate(parseFilter('nope == 1 || 1'), ['a'])([1], noCtx), false);
  assert.equal(compilePredicate(parseFilter('b[5] == 0'), ['b'])([[1, 2]], noCtx), false);
  assert.equal(compilePredicate(parseFilter('a << 64 == 0'), ['a'])([1], noCtx), false);
  // `$ctx.vtid.blah` parses (LTTng 2.13 accepts it) but never loads.
  const vtid = { get: (n: string) => (n === 'vtid' ? 0 : undefined) };
  assert.equal(compilePredicate(parseFilter('$ctx.vtid == 0'), [])([], vtid), true);
  assert.equal(compilePredicate(parseFilter('$ctx.vtid.blah == 0 || 1'), [])([], vtid), false);
});

test('strings: == / != with globs and escaped stars, ordering; $ctx', () => {
  const p = compilePredicate(parseFilter('comm == "sle*" && $ctx.procname != "bash"'), ['comm']);
  assert.equal(p(['sleep'], { get: (n) => (n === 'procname' ? 'sleep' : undefined) }), true);
  assert.equal(p(['true'], { get: (n) => (n === 'procname' ? 'sleep' : undefined) }), false);
  assert.equal(compilePredicate(parseFilter('s == "a\\*"'), ['s'])(['a*'], noCtx), true);
  assert.equal(compilePredicate(parseFilter('s == "a\\*"'), ['s'])(['ab'], noCtx), false);
  assert.equal(compilePredicate(parseFilter('s < 3'), ['s'])(['x'], noCtx), false);
  // LTTng's escapes: `\\` is a backslash (then the star is a glob), `\*` a star; no other (lttng-filter-rules).
  assert.equal(compilePredicate(parseFilter('s == "a\\\\*"'), ['s'])(['a\\tail'], noCtx), true);
  assert.equal(compilePredicate(parseFilter('s == "a\\\\*"'), ['s'])(['a*'], noCtx), false);
  assert.equal(compilePredicate(parseFilter('s == "a\\\\b"'), ['s'])(['a\\b'], noCtx), true);
  // Strings are ordered as strcmp, a literal ending in a star as the prefix before it.
  assert.equal(compilePredicate(parseFilter('s < "b"'), ['s'])(['abc'], noCtx), true);
  assert.equal(compilePredicate(parseFilter('"b" < s'), ['s'])(['abc'], noCtx), false);
  assert.equal(compilePredicate(parseFilter('s >= "ab*"'), ['s'])(['abz'], noCtx), true);
  assert.equal(compilePredicate(parseFilter('s > "ab*"'), ['s'])(['abz'], noCtx), false);
  assert.equal(compilePredicate(parseFilter('s < "ab*"'), ['s'])(['aa'], noCtx), true);
});

test('64-bit values and negative literals', () => {
  const p = compilePredicate(parseFilter('v == 0xffffffffffffffff'), ['v']);
  assert.equal(p([-1n], noCtx), true);
  assert.equal(compilePredicate(parseFilter('ret < -1'), ['ret'])([-2], noCtx), true);
  assert.equal(compilePredicate(parseFilter('!(x > 3)'), ['x'])([2], noCtx), true);
});

test('syntax errors are one-line LttErrors', () => {
  for (const bad of ['a +', 'a + b', '(a == 1', 'a == "x', '', 'a[b] == 1', '$foo == 1']) {
    assert.throws(() => parseFilter(bad), (e: Error & { code?: string }) => e.code === 'FILTER_SYNTAX' && !e.message.includes('\n'), bad);
  }
});

test('tracefs translation only where exact', () => {
  const sw = shapeEvent(readEventFormat('sched', 'sched_switch'));
  const tr = (s: string): string | undefined => toTracefsFilter(parseFilter(s), sw.sourceOf, sw.transformed);
  assert.equal(tr('prev_comm == "sleep"'), 'prev_comm == "sleep"');
  assert.equal(tr('prev_comm == "sl*" && prev_tid != 0'), '(prev_comm ~ "sl*") && (prev_pid != 0)');
  assert.equal(tr('100 < next_tid'), 'next_pid > 100');
  assert.equal(tr('$ctx.procname == "x"'), 'COMM == "x"');
  assert.equal(tr('prev_prio == 20'), undefined); // prio is recorded as prio - 100
  assert.equal(tr('prev_tid & 1 == 1'), undefined); // LTTng bitwise precedence
  assert.equal(tr('$ctx.pid == 1'), undefined);
});

test('filters too long or nested too deep are refused with one line, never by exhausting the stack', () => {
  const deepParens = '('.repeat(30_000) + 'a == 1' + ')'.repeat(30_000);
  assert.throws(() => parseFilter(deepParens), /^LttError: Invalid filter: nested more than 256 levels deep$/m);
  assert.throws(() => parseFilter('!'.repeat(60_000) + 'a'), /Invalid filter: nested more than 256 levels deep/);
  assert.throws(() => parseFilter(Array.from({ length: 300 }, (_, i) => `a == ${i}`).join(' || ')), /nested more than 256 levels deep/);
  assert.throws(() => parseFilter('a == 1 || '.repeat(7000) + 'a == 2'), /Invalid filter: longer than 65535 characters/);
  // What fits is parsed and compiled (the compiler walks the tree recursively).
  const ok = '('.repeat(200) + Array.from({ length: 40 }, (_, i) => `a == ${i}`).join(' || ') + ')'.repeat(200);
  const pred = compilePredicate(parseFilter(ok), ['a']);
  assert.equal(pred([39], { get: () => undefined }), true);
  assert.equal(pred([40], { get: () => undefined }), false);
});
