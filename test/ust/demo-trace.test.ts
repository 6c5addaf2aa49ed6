// ltt/ust end to end: real Node processes (main thread + a worker) trace into LTTng's per-PID layout and
// /usr/bin/babeltrace2 reads the result. Covers lossless recording with big buffers, exact loss accounting with
// tiny buffers (discard and overwrite), and the flush at exit, on an uncaught exception, on process.exit() with
// a worker still running, and on SIGTERM.

import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { events, openTrace } from '../../src/ctf/index.js';
import {
  babeltrace, cleanup, DEMO, discardedEvents, discardedPackets, parseTicks, runNode, runNodeAndSignal, tempDir,
  ticksByThread, traceDirOf,
} from './helpers.js';

function assertComplete(out: string, n: number): void {
  const dir = traceDirOf(out);
  const bt = babeltrace(dir);
  assert.equal(bt.status, 0, bt.stderr);
  assert.equal(bt.stderr, '', 'no warnings expected');
  const by = ticksByThread(parseTicks(bt.lines));
  assert.deepEqual([...by.keys()].sort(), ['main', 'worker']);
  for (const [who, is] of by) {
    assert.equal(is.length, n, `${who}: ${is.length} events of ${n}`);
    for (let k = 0; k < n; k++) if (is[k] !== k) assert.fail(`${who}: event ${k} has i = ${is[k]}`);
  }
}

describe('ust demo traces', () => {
  test('big buffers: every event of both threads, with the right values, in LTTng per-PID layout', () => {
    const out = tempDir('big');
    try {
      const n = 50_000;
      const r = runNode([DEMO, String(n)], { LTT_UST_OUTPUT: out });
      assert.equal(r.code, 0, r.stderr);
      const dir = traceDirOf(out);
      assert.match(dir, /\/ust\/pid\/[^/]+-\d+-\d{8}-\d{6}$/);
      const files = readdirSync(dir).sort();
      assert.ok(files.includes('metadata') && files.includes('index') && files.includes('channel0_0'), files.join(','));
      const streams = files.filter((f) => /^channel0_\d+$/.test(f));
      assert.equal(streams.length, 2, `one stream per tracing thread: ${streams.join(',')}`);
      for (const s of streams) {
        const idx = readFileSync(join(dir, 'index', `${s}.idx`));
        const size = statSync(join(dir, s)).size;
        // Index 1.1: 16-byte header + 72 bytes per packet; the last entry ends exactly at the file's end.
        assert.equal(idx.readUInt32BE(0), 0xc1f1dcc1);
        assert.equal((idx.length - 16) % 72, 0);
        const last = 16 + (idx.length - 16 - 72);
        assert.equal(Number(idx.readBigUInt64BE(last)) + Number(idx.readBigUInt64BE(last + 8)) / 8, size);
      }
      const meta = readFileSync(join(dir, 'metadata'), 'utf8');
      assert.match(meta, /domain = "ust";/);
      assert.match(meta, /tracer_buffering_scheme = "pid";/);
      assert.match(meta, new RegExp(`vpid = ${/-(\d+)-\d{8}-\d{6}$/.exec(dir)![1]};`));
      const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      assert.ok(meta.includes(`uuid = "${bootId}";`), 'clock uuid is the boot id');
      assert.match(meta, /name = "demo:tick";\n\tid = 0;\n\tstream_id = 0;\n\tloglevel = 6;/);
      assertComplete(out, n);
    } finally {
      cleanup(out);
    }
  });

  test('ltt\'s own CTF reader (src/ctf) reads the same events and timestamps as babeltrace2', async () => {
    const out = tempDir('reader');
    try {
      // 2 x 2000 records of 17 bytes: several 16 KiB packets per stream, and no loss (64 KiB per thread).
      const n = 2000;
      const r = runNode([DEMO, String(n)], { LTT_UST_OUTPUT: out, LTT_UST_SUBBUF_SIZE: '16k' });
      assert.equal(r.code, 0, r.stderr);
      const dir = traceDirOf(out);
      const bt = babeltrace(dir, ['--clock-cycles']);
      assert.equal(bt.status, 0, bt.stderr);
      const expected = bt.lines.map((l) => {
        const m = /^\[(\d+)\] .* demo:tick: \{ cpu_id = (\d+) \}, \{ i = (\d+), msg = "(\w+)" \}$/.exec(l);
        assert.ok(m, l);
        return `${BigInt(m[1]!)} ${m[2]} ${m[3]} ${m[4]}`;
      });
      const got: string[] = [];
      for await (const e of events(await openTrace([dir]))) {
        assert.equal(e.name, 'demo:tick');
        got.push(`${String(e.cycles)} ${String(e.packetContext!['cpu_id'])} ${String(e.payload!['i'])} ${String(e.payload!['msg'])}`);
      }
      assert.equal(got.length, 2 * n);
      assert.deepEqual(got, expected);
    } finally {
      cleanup(out);
    }
  });

  test('tiny buffers, discard mode: recorded + discarded == emitted, exactly', () => {
    const out = tempDir('tiny');
    try {
      const n = 300_000;
      const r = runNode([DEMO, String(n)], { LTT_UST_OUTPUT: out, LTT_UST_SUBBUF_SIZE: '4096', LTT_UST_NUM_SUBBUF: '2' });
      assert.equal(r.code, 0, r.stderr);
      const bt = babeltrace(traceDirOf(out));
      assert.equal(bt.status, 0, bt.stderr);
      const ticks = parseTicks(bt.lines);
      const discarded = discardedEvents(bt.stderr);
      assert.ok(discarded > 0, 'tiny buffers must lose events');
      assert.equal(ticks.length + discarded, 2 * n);
      // Recorded events keep their order and values: strictly increasing i per thread.
      for (const [who, is] of ticksByThread(ticks)) {
        for (let k = 1; k < is.length; k++) assert.ok(is[k]! > is[k - 1]!, `${who}: order broken at ${k}`);
      }
    } finally {
      cleanup(out);
    }
  });

  test('tiny buffers, blocking discard mode (LTT_UST_BLOCKING_TIMEOUT=inf): nothing is lost', () => {
    const out = tempDir('blocking');
    try {
      const n = 100_000;
      const r = runNode([DEMO, String(n)], {
        LTT_UST_OUTPUT: out, LTT_UST_SUBBUF_SIZE: '4096', LTT_UST_NUM_SUBBUF: '2', LTT_UST_BLOCKING_TIMEOUT: 'inf',
      });
      assert.equal(r.code, 0, r.stderr);
      assertComplete(out, n);
    } finally {
      cleanup(out);
    }
  });

  test('tiny buffers, overwrite mode: losses are whole packets, reported as packet_seq_num gaps', () => {
    const out = tempDir('ovw');
    try {
      const n = 300_000;
      const r = runNode([DEMO, String(n)], {
        LTT_UST_OUTPUT: out, LTT_UST_SUBBUF_SIZE: '4096', LTT_UST_NUM_SUBBUF: '2', LTT_UST_MODE: 'overwrite',
      });
      assert.equal(r.code, 0, r.stderr);
      const bt = babeltrace(traceDirOf(out));
      assert.equal(bt.status, 0, bt.stderr);
      const ticks = parseTicks(bt.lines);
      assert.equal(discardedEvents(bt.stderr), 0);
      const ticksPerThread = ticksByThread(ticks);
      // The newest events survive in overwrite mode: each thread's last event is present.
      for (const [who, is] of ticksPerThread) assert.equal(is[is.length - 1], n - 1, `${who} lost its newest event`);
      if (ticks.length < 2 * n) assert.ok(discardedPackets(bt.stderr) > 0, 'lost events must show as lost packets');
    } finally {
      cleanup(out);
    }
  });

  test('uncaught exception: the trace is flushed before the process dies', () => {
    const out = tempDir('throw');
    try {
      const r = runNode([DEMO, '20000', 'throw'], { LTT_UST_OUTPUT: out });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /deliberate uncaught exception/);
      assertComplete(out, 20_000);
    } finally {
      cleanup(out);
    }
  });

  test('process.exit() while the worker still holds an open packet: its committed events are rescued', () => {
    const out = tempDir('exit');
    try {
      const r = runNode([DEMO, '20000', 'exit'], { LTT_UST_OUTPUT: out });
      assert.equal(r.code, 0, r.stderr);
      assertComplete(out, 20_000);
    } finally {
      cleanup(out);
    }
  });

  test('process.exit() with tiny buffers: the losses of a worker that cannot flush are still all counted', () => {
    const out = tempDir('exit-tiny');
    try {
      const n = 300_000;
      const r = runNode([DEMO, String(n), 'exit'], { LTT_UST_OUTPUT: out, LTT_UST_SUBBUF_SIZE: '4096', LTT_UST_NUM_SUBBUF: '2' });
      assert.equal(r.code, 0, r.stderr);
      const bt = babeltrace(traceDirOf(out));
      assert.equal(bt.status, 0, bt.stderr);
      const discarded = discardedEvents(bt.stderr);
      assert.ok(discarded > 0);
      assert.equal(parseTicks(bt.lines).length + discarded, 2 * n);
    } finally {
      cleanup(out);
    }
  });

  test('SIGTERM: the trace is flushed and the process still dies by the signal', async () => {
    const out = tempDir('term');
    try {
      const r = await runNodeAndSignal([DEMO, '20000', 'sigterm'], { LTT_UST_OUTPUT: out }, 'SIGTERM');
      assert.equal(r.signal, 'SIGTERM', `exit code ${r.code}, stderr ${r.stderr}`);
      assertComplete(out, 20_000);
    } finally {
      cleanup(out);
    }
  });

  test('no LTT_UST_OUTPUT: nothing is traced and nothing is written', () => {
    const out = tempDir('off');
    try {
      const r = runNode([DEMO, '1000'], { LTT_UST_OUTPUT: '' });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(existsSync(join(out, 'ust')), false);
    } finally {
      cleanup(out);
    }
  });

  test('bad LTT_UST_* settings: one warning line, the program still runs untraced', () => {
    const out = tempDir('bad');
    try {
      const r = runNode([DEMO, '10'], { LTT_UST_OUTPUT: out, LTT_UST_SUBBUF_SIZE: '3000' });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /subbufSize must be a power of two >= 4096/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(existsSync(join(out, 'ust')), false);
    } finally {
      cleanup(out);
    }
  });
});
