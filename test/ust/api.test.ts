// ltt/ust API: every field kind round-trips through babeltrace2 with the right values, contexts carry the real
// vpid / OS tid / thread name / async id, emit() is type-checked at compile time, a disabled event allocates
// nothing, and the enable rules follow LTTng's glob / log level / exclusion semantics.

import { strict as assert } from 'node:assert';
import { PerformanceObserver } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import * as ust from '../../src/ust/index.js';
import { eventMatches } from '../../src/ust/enablement.js';
import { starGlobMatches as globMatches } from '../../src/star-glob.js';
import { babeltrace, cleanup, runNode, tempDir, traceDirOf, writeScript } from './helpers.js';

const ALL_TYPES = `
const p = ust.provider('types');
const e = p.event('all', [
  ust.int8('i8'), ust.uint8('u8h', { hex: true }), ust.int16('i16'), ust.uint16('u16'), ust.int32('i32'),
  ust.uint32('u32h', { base: 16 }), ust.int64('i64'), ust.uint64('u64'), ust.int64('i64n'), ust.float32('f32'),
  ust.float64('f64'), ust.bool('b'), ust.string('s'), ust.string('nul'),
  ust.enumeration('st', ust.uint8(), { IDLE: 0, BUSY: 1, ERR: [2, 9] }), ust.array('arr', ust.uint16(), 3),
  ust.sequence('seq', ust.int32()), ust.sequence('names', ust.string()), ust.array('flags', ust.bool(), 2),
], { logLevel: 'TRACE_WARNING' });
ust.startLocalSession({ dir: process.argv[2], contexts: ['vpid', 'vtid', 'procname', 'async_id'] });
e.emit(-5, 255, -300, 65535, -2147483648, 0xdeadbeef, -(2n ** 63n), 2n ** 64n - 1n, -(2 ** 53), 1.5, -0.1, true,
  'héllo € 𝄞', 'ab\\0cd', 'BUSY', [1, 2, 3], [-1, 0, 7], ['x', 'ÿ'], [true, false]);
e.emit(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, '', '', 5, [0, 0, 0], [], [], [false, false]);
`;

const EXPECTED_PAYLOADS = [
  '{ i8 = -5, u8h = 0xFF, i16 = -300, u16 = 65535, i32 = -2147483648, u32h = 0xDEADBEEF, i64 = -9223372036854775808, ' +
    'u64 = 18446744073709551615, i64n = -9007199254740992, f32 = 1.5, f64 = -0.1, b = 1, s = "héllo € 𝄞", nul = "ab", ' +
    'st = ( "BUSY" : container = 1 ), arr = [ [0] = 1, [1] = 2, [2] = 3 ], _seq_length = 3, seq = [ [0] = -1, [1] = 0, [2] = 7 ], ' +
    '_names_length = 2, names = [ [0] = "x", [1] = "ÿ" ], flags = [ [0] = 1, [1] = 0 ] }',
  '{ i8 = 0, u8h = 0x0, i16 = 0, u16 = 0, i32 = 0, u32h = 0x0, i64 = 0, u64 = 0, i64n = 0, f32 = 0, f64 = 0, b = 0, ' +
    's = "", nul = "", st = ( "ERR" : container = 5 ), arr = [ [0] = 0, [1] = 0, [2] = 0 ], _seq_length = 0, seq = [ ], ' +
    '_names_length = 0, names = [ ], flags = [ [0] = 0, [1] = 0 ] }',
];

describe('ltt/ust API', () => {
  test('every field kind is recorded with its exact value (read by babeltrace2)', () => {
    const dir = tempDir('types');
    try {
      const script = writeScript(dir, 'types.mjs', ALL_TYPES);
      const r = runNode([script, `${dir}/out`], {});
      assert.equal(r.code, 0, r.stderr);
      const bt = babeltrace(traceDirOf(`${dir}/out`));
      assert.equal(bt.status, 0, bt.stderr);
      assert.equal(bt.lines.length, 2);
      bt.lines.forEach((l, k) => {
        const payload = l.slice(l.lastIndexOf('}, {') + 3);
        assert.equal(payload, EXPECTED_PAYLOADS[k]);
      });
    } finally {
      cleanup(dir);
    }
  });

  test('network byte order and text integers, as lttng-ust\'s _network and _text fields', () => {
    const dir = tempDir('netText');
    try {
      const script = writeScript(dir, 'net.mjs', `
const be = { byteOrder: 'be' };
const e = ust.provider('net').event('e', [ust.int32('n', be), ust.uint16('h', { ...be, hex: true }), ust.int64('n64', be),
  ust.int64('n64b', be), ust.array('a', ust.uint32('', be), 2), ust.array('t', ust.int8('', { text: true }), 6),
  ust.sequence('st', ust.uint8('', { text: true })), ust.enumeration('en', ust.int16('', be), { X: -2 })]);
ust.startLocalSession({ dir: process.argv[2] });
e.emit(-2, 0x1234, -(2 ** 40) - 3, 2n ** 62n + 5n, [1, 0xdeadbeef], [104, 105, 0, 0, 0, 0], [111, 107], 'X');
`);
      const r = runNode([script, `${dir}/out`], {});
      assert.equal(r.code, 0, r.stderr);
      const bt = babeltrace(traceDirOf(`${dir}/out`));
      assert.equal(bt.status, 0, bt.stderr);
      assert.equal(bt.lines[0]!.slice(bt.lines[0]!.lastIndexOf('}, {') + 3),
        '{ n = -2, h = 0x1234, n64 = -1099511627779, n64b = 4611686018427387909, a = [ [0] = 1, [1] = 3735928559 ], t = "hi", ' +
          '_st_length = 2, st = "ok", en = ( "X" : container = -2 ) }');
      assert.throws(() => ust.int32('x', { text: true }), /only 8-bit integers can be text/);
      assert.throws(() => ust.int32('x', { byteOrder: 'middle' as 'be' }), /invalid byte order/);
    } finally {
      cleanup(dir);
    }
  });

  test('contexts: vpid, vtid (OS thread id, per worker), procname, async id', () => {
    const dir = tempDir('ctx');
    try {
      const script = writeScript(
        dir,
        'ctx.mjs',
        `
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import { readlinkSync } from 'node:fs';
import { executionAsyncId } from 'node:async_hooks';
const ev = ust.provider('ctx').event('e', [ust.string('who'), ust.int64('aid'), ust.int32('tid')]);
const tid = Number(/task\\/(\\d+)$/.exec(readlinkSync('/proc/thread-self'))[1]);
if (isMainThread) {
  ust.startLocalSession({ dir: process.argv[2], contexts: ['vpid', 'vtid', 'procname', 'async_id'] });
  const w = new Worker(new URL(import.meta.url));
  await new Promise((r) => w.once('exit', r));
  setTimeout(() => ev.emit('main', executionAsyncId(), tid), 1);
} else {
  ev.emit('worker', executionAsyncId(), tid);
}
`,
      );
      const r = runNode([script, `${dir}/out`], {});
      assert.equal(r.code, 0, r.stderr);
      const bt = babeltrace(traceDirOf(`${dir}/out`));
      assert.equal(bt.status, 0, bt.stderr);
      assert.equal(bt.lines.length, 2);
      const re = /\{ vpid = (\d+), vtid = (\d+), procname = "([^"]*)", async_id = (\d+) \}, \{ who = "(\w+)", aid = (\d+), tid = (\d+) \}$/;
      const seen = new Set<string>();
      for (const l of bt.lines) {
        const m = re.exec(l);
        assert.ok(m, l);
        const [, vpid, vtid, procname, asyncId, who, aid, tid] = m;
        seen.add(who!);
        assert.match(l, new RegExp(`:\\(${vpid}\\) ctx:e`), 'vpid is the traced process');
        assert.equal(vtid, tid, `${who}: vtid is the OS thread id`);
        assert.equal(asyncId, aid, `${who}: async_id is executionAsyncId()`);
        assert.ok(procname!.length > 0 && procname!.length <= 16);
        if (who === 'main') {
          assert.equal(vtid, vpid);
          assert.notEqual(asyncId, '0', 'inside a timer callback the async id is not 0');
        } else {
          assert.notEqual(vtid, vpid, 'a worker runs on its own OS thread');
        }
      }
      assert.deepEqual([...seen].sort(), ['main', 'worker']);
    } finally {
      cleanup(dir);
    }
  });

  test('a disabled event costs a property check and allocates nothing', async () => {
    const ev = ust.provider('quiet').event('e', [ust.int32('i'), ust.string('s')]);
    assert.equal(ev.enabled, false);
    let gcs = 0;
    const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
    obs.observe({ entryTypes: ['gc'] });
    const loop = (n: number): void => {
      for (let i = 0; i < n; i++) {
        if (ev.enabled) ev.emit(i, 'x');
        ev.emit(i, 'never recorded'); // emit() itself also returns at once
      }
    };
    loop(100_000);
    await new Promise((r) => setTimeout(r, 20));
    gcs = 0;
    const before = process.memoryUsage().heapUsed;
    loop(5_000_000);
    const grown = process.memoryUsage().heapUsed - before;
    await new Promise((r) => setTimeout(r, 20));
    obs.disconnect();
    assert.equal(gcs, 0, 'no garbage collection during 5M disabled events');
    assert.ok(grown < 256 * 1024, `heap grew by ${grown} bytes`);
  });

  test('emit() is type-checked against the declared fields', () => {
    const ev = ust.provider('typed').event('e', [ust.int32('i'), ust.string('s'), ust.uint64('big'), ust.enumeration('k', ust.uint8(), { A: 0, B: 1 })]);
    const compileOnly = (): void => {
      ev.emit(1, 'x', 2n, 'A');
      ev.emit(1, 'x', 2, 1);
      // @ts-expect-error: a string where an int32 is declared
      ev.emit('1', 'x', 2n, 'A');
      // @ts-expect-error: missing value
      ev.emit(1, 'x', 2n);
      // @ts-expect-error: unknown enumeration label
      ev.emit(1, 'x', 2n, 'C');
      // @ts-expect-error: bigint only for 64-bit fields
      ev.emit(1n, 'x', 2n, 'A');
    };
    assert.equal(typeof compileOnly, 'function');
    assert.throws(() => ust.provider('typed').event('e', [ust.int32('i')]), /already declared with other fields/);
    assert.throws(() => ust.provider('bad').event('e', [ust.int32('i'), ust.int32('i')]), /duplicate field i/);
    assert.throws(() => ust.provider('bad').event('e2', [ust.int32()]), /every field needs a name/);
    assert.throws(() => ust.provider('bad').event('e3', [], { logLevel: 'TRACE_LOUD' as never }), /unknown log level/);
    assert.throws(() => ust.provider('bad x'), /invalid provider name/);
  });

  test('enable rules: globs, exclusions, log level range and single', () => {
    assert.ok(globMatches('demo:*', 'demo:tick'));
    assert.ok(!globMatches('demo:*', 'demox:tick'));
    assert.ok(globMatches('*', 'a:b'));
    assert.ok(globMatches('de\\*mo:x', 'de*mo:x'));
    assert.ok(!globMatches('de\\*mo:x', 'deXmo:x'));
    const info = ust.LOG_LEVELS.TRACE_INFO;
    assert.ok(eventMatches([{ pattern: 'demo:*', logLevel: { type: 'range', level: info } }], 'demo:tick', ust.LOG_LEVELS.TRACE_ERR));
    assert.ok(!eventMatches([{ pattern: 'demo:*', logLevel: { type: 'range', level: info } }], 'demo:tick', ust.LOG_LEVELS.TRACE_DEBUG));
    assert.ok(eventMatches([{ pattern: 'demo:*', logLevel: { type: 'single', level: info } }], 'demo:tick', info));
    assert.ok(!eventMatches([{ pattern: 'demo:*', logLevel: { type: 'single', level: info } }], 'demo:tick', info - 1));
    assert.ok(!eventMatches([{ pattern: 'demo:*', exclusions: ['demo:ti*'] }], 'demo:tick', info));
    assert.ok(eventMatches([{ pattern: 'demo:*', exclusions: ['demo:ti*'] }, { pattern: 'demo:tick' }], 'demo:tick', info));
  });

  test('LTT_UST_EVENTS and LTT_UST_LOGLEVEL select what is recorded', () => {
    const dir = tempDir('rules');
    try {
      const script = writeScript(
        dir,
        'rules.mjs',
        `
const a = ust.provider('app').event('info', [ust.int32('i')], { logLevel: 'TRACE_INFO' });
const b = ust.provider('app').event('debug', [ust.int32('i')], { logLevel: 'TRACE_DEBUG' });
const c = ust.provider('other').event('err', [ust.int32('i')], { logLevel: 'TRACE_ERR' });
for (let i = 0; i < 3; i++) { a.emit(i); b.emit(i); c.emit(i); }
`,
      );
      const r = runNode([script], { LTT_UST_OUTPUT: `${dir}/out`, LTT_UST_EVENTS: 'app:*', LTT_UST_LOGLEVEL: 'TRACE_INFO' });
      assert.equal(r.code, 0, r.stderr);
      const bt = babeltrace(traceDirOf(`${dir}/out`));
      assert.equal(bt.status, 0, bt.stderr);
      assert.deepEqual(bt.lines.map((l) => / (\S+): \{ cpu_id/.exec(l)![1]), ['app:info', 'app:info', 'app:info']);
    } finally {
      cleanup(dir);
    }
  });

  test('a worker started before the session joins it; stopLocalSession() ends recording', () => {
    const dir = tempDir('late');
    try {
      const script = writeScript(
        dir,
        'late.mjs',
        `
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
const ev = ust.provider('w').event('e', [ust.string('who'), ust.int32('k')]);
if (isMainThread) {
  const w = new Worker(new URL(import.meta.url));
  await new Promise((r) => w.once('message', r));
  ust.startLocalSession({ dir: process.argv[2] });
  ev.emit('main', 1);
  w.postMessage('go');
  await new Promise((r) => w.once('exit', r));
  ust.stopLocalSession();
  ev.emit('main-after-stop', 2);
  console.log(String(ev.enabled), String(ust.localSessionInfo()));
} else {
  parentPort.postMessage('up');
  parentPort.once('message', () => setTimeout(() => { ev.emit('worker', 3); process.exit(0); }, 50));
}
`,
      );
      const r = runNode([script, `${dir}/out`], {});
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'false undefined');
      const bt = babeltrace(traceDirOf(`${dir}/out`));
      assert.equal(bt.status, 0, bt.stderr);
      assert.deepEqual(bt.lines.map((l) => l.slice(l.lastIndexOf('{'))), ['{ who = "main", k = 1 }', '{ who = "worker", k = 3 }']);
    } finally {
      cleanup(dir);
    }
  });

  test('setEventRules() re-arms events in the main thread and in workers', () => {
    const dir = tempDir('setrules');
    try {
      const script = writeScript(
        dir,
        'setrules.mjs',
        `
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
const a = ust.provider('p').event('a', [ust.string('who')]);
const b = ust.provider('p').event('b', [ust.string('who')], { logLevel: 'TRACE_ERR' });
if (isMainThread) {
  ust.startLocalSession({ dir: process.argv[2], events: ['p:a'] });
  const w = new Worker(new URL(import.meta.url));
  await new Promise((r) => w.once('message', r));
  a.emit('main'); b.emit('main');
  ust.setEventRules([{ pattern: 'p:*', logLevel: { type: 'range', level: ust.LOG_LEVELS.TRACE_WARNING } }]);
  a.emit('main2'); b.emit('main2');
  w.postMessage('go');
  await new Promise((r) => w.once('exit', r));
} else {
  a.emit('worker'); b.emit('worker');
  parentPort.postMessage('ready');
  // Rules reach a worker through its event loop, in no fixed order with 'go': wait until they apply.
  const whenArmed = () => (b.enabled ? (a.emit('worker2'), b.emit('worker2'), parentPort.close()) : setTimeout(whenArmed, 1));
  parentPort.once('message', whenArmed);
}
`,
      );
      const r = runNode([script, `${dir}/out`], {});
      assert.equal(r.code, 0, r.stderr);
      const bt = babeltrace(traceDirOf(`${dir}/out`));
      assert.equal(bt.status, 0, bt.stderr);
      const got = bt.lines.map((l) => `${/ (p:\w+): /.exec(l)![1]} ${/who = "(\w+)"/.exec(l)![1]}`).sort();
      // Before: only p:a. After: log level <= WARNING, so p:b (ERR) but not p:a (DEBUG_LINE).
      assert.deepEqual(got, ['p:a main', 'p:a worker', 'p:b main2', 'p:b worker2']);
    } finally {
      cleanup(dir);
    }
  });

  test('events declared while the session runs are recorded and described in the metadata', () => {
    const dir = tempDir('lateev');
    try {
      const script = writeScript(
        dir,
        'lateev.mjs',
        `
import { Worker, isMainThread } from 'node:worker_threads';
if (isMainThread) ust.startLocalSession({ dir: process.argv[2] });
const who = isMainThread ? 'main' : 'worker';
const first = ust.provider('late').event('first', [ust.string('who')]);
first.emit(who);
await new Promise((r) => setTimeout(r, 5));
const second = ust.provider('late').event('second', [ust.string('who'), ust.float64('x')]);
second.emit(who, 0.5);
if (isMainThread) { const w = new Worker(new URL(import.meta.url)); await new Promise((r) => w.once('exit', r)); }
`,
      );
      const r = runNode([script, `${dir}/out`], {});
      assert.equal(r.code, 0, r.stderr);
      const bt = babeltrace(traceDirOf(`${dir}/out`));
      assert.equal(bt.status, 0, bt.stderr);
      assert.deepEqual(bt.lines.map((l) => l.slice(l.indexOf(' late:'))), [
        ' late:first: { cpu_id = 0 }, { who = "main" }',
        ' late:second: { cpu_id = 0 }, { who = "main", x = 0.5 }',
        ' late:first: { cpu_id = 2 }, { who = "worker" }', // threadId 1 is the consumer
        ' late:second: { cpu_id = 2 }, { who = "worker", x = 0.5 }',
      ]);
    } finally {
      cleanup(dir);
    }
  });

  test('records near the sub-buffer size: a long string that fits is kept, one that cannot fit is counted', () => {
    const dir = tempDir('big');
    try {
      const script = writeScript(
        dir,
        'big.mjs',
        `
const ev = ust.provider('big').event('s', [ust.string('s')]);
ust.startLocalSession({ dir: process.argv[2], subbufSize: 4096, numSubbuf: 2 });
ev.emit('x'.repeat(3000));   // 3001 bytes: fits a 4 KiB packet (the 3-bytes-per-char bound would not)
ev.emit('y'.repeat(1500));   // next packet (babeltrace2 reports an exact count only from the second packet on)
ev.emit('é'.repeat(2010));   // 4021 bytes + 6-byte event header + 84-byte packet header > 4096: cannot fit
ev.emit('end');
`,
      );
      const r = runNode([script, `${dir}/out`], {});
      assert.equal(r.code, 0, r.stderr);
      const bt = babeltrace(traceDirOf(`${dir}/out`));
      assert.equal(bt.status, 0, bt.stderr);
      assert.deepEqual(bt.lines.map((l) => l.slice(l.lastIndexOf('{')).length), ['{ s = "" }'.length + 3000, '{ s = "" }'.length + 1500, '{ s = "end" }'.length]);
      assert.match(bt.stderr, /Tracer discarded 1 event /);
    } finally {
      cleanup(dir);
    }
  });

  test('startLocalSession rejects bad options with one-line errors', () => {
    assert.throws(() => ust.startLocalSession({ dir: '/tmp/x', subbufSize: 1000 }), /subbufSize must be a power of two >= 4096/);
    assert.throws(() => ust.startLocalSession({ dir: '/tmp/x', mode: 'ring' as never }), /mode must be "discard" or "overwrite"/);
    assert.throws(() => ust.startLocalSession({ dir: '/tmp/x', subbufSize: 1 << 30, numSubbuf: 2 }), /must not exceed 1 GiB per thread/);
    assert.throws(() => ust.setEventRules([{ pattern: '*' }]), /no active session/);
    assert.throws(() => ust.startLocalSession({ dir: '/tmp/x', contexts: ['pid' as never] }), /unknown context "pid"/);
    assert.throws(() => ust.startLocalSession({ dir: '/tmp/x', rules: [{ pattern: '*', filter: 'x == ' }] }), /Invalid filter: /);
    assert.throws(() => ust.startLocalSession({ dir: '/dev/null/ltt' }), /cannot create trace directory/);
    assert.equal(ust.localSessionInfo(), undefined);
  });
});
