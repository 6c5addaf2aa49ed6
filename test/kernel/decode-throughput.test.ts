// The kernel hot path on a large real input: real ftrace pages (a syscall storm recorded in a private instance)
// through the page decoder, the generated LTTng converters and the CTF stream writer, every record accounted for.
// It prints events/s as a diagnostic only: speed is judged by bench/kernel.mjs, not by a timed test.
import { test, type TestContext } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as tracefs from '../../src/ftrace/tracefs.js';
import { parseHeaderEvent, parseHeaderPage, readEventFormat } from '../../src/ftrace/event-format.js';
import { PageDecoder } from '../../src/ftrace/page-decoder.js';
import { captureRawPages } from '../../src/kernel/raw-capture.js';
import { shapeEvent, type Converter } from '../../src/ftrace/lttng-shaping.js';
import { CtfTraceWriter } from '../../src/ctf/writer/index.js';
import { monotonicClockDef } from '../../src/ftrace/trace-clock.js';
import { skipUnlessApplied, subbufSizes } from './subbuf-sizes.js';

test('page decoder + converters + CTF writer sustain millions of events/s', async (t) => {
  for (const size of subbufSizes(65536)) await t.test(`${size / 1024} KiB sub-buffers`, (st) => decodeConvertWrite(st, size));
});

async function decodeConvertWrite(t: TestContext, askedPageSize: number): Promise<void> {
  const pages: Buffer[] = [];
  const { pageSize } = captureRawPages(
    {
      instance: `ltt-test-throughput-${process.pid}`,
      pageSize: askedPageSize,
      bufferKb: 32768,
      events: ['syscalls', 'sched/sched_switch'],
      workload: () => execFileSync('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=100000'], { stdio: 'ignore' }),
    },
    (_cpu, page) => pages.push(Buffer.from(page)),
  );
  if (skipUnlessApplied(t, askedPageSize, pageSize)) return;
  const dec = new PageDecoder(parseHeaderPage(tracefs.readText('events/header_page')), parseHeaderEvent(tracefs.readText('events/header_event')));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-throughput-'));
  try {
    const w = await CtfTraceWriter.create({ dir, env: { domain: 'kernel' }, clock: monotonicClockDef(), streamClasses: [{ id: 0, header: 'large' }] });
    const handlers: Array<{ id: number; convert: Converter; out: unknown[] } | undefined> = [];
    const formats = [...tracefs.listDir('events/syscalls').filter((n) => n.startsWith('sys_')).map((n) => readEventFormat('syscalls', n)), readEventFormat('sched', 'sched_switch')];
    for (const f of formats) {
      const sh = shapeEvent(f, f.system === 'syscalls' ? 'syscall' : 'tracepoint');
      handlers[f.id] = { id: w.addEventClass({ name: sh.name, fields: sh.fields }), convert: sh.convert, out: new Array(sh.fields.length) };
    }
    const stream = w.openStream({ fileName: 'c_0', cpuId: 0, packetSize: 1 << 20 });
    let best = 0;
    let shift = 0;
    let total = 0;
    for (let rep = 0; rep < 5; rep++) {
      let count = 0;
      let last = 0;
      const t0 = process.hrtime.bigint();
      for (const b of pages) {
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        dec.decodePage(dv, 0, pageSize, (off, len) => {
          const ts = dec.timestamp[0]!;
          const h = handlers[dv.getUint16(off, true)];
          if (h === undefined) return;
          h.convert(dv, b, off, len, h.out);
          // Pages of two CPUs interleave in time: shift each pass so the single stream stays ordered.
          last = shift + ts;
          stream.write(h.id, last, h.out);
          count++;
        });
        shift = Math.max(shift, last);
      }
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      best = Math.max(best, count / secs);
      total = count;
    }
    await w.close();
    process.stdout.write(`# kernel decode+convert+write: ${(best / 1e6).toFixed(2)} M events/s (${total} events, ${pages.length} pages of ${pageSize / 1024} KiB)\n`);
    assert.ok(total > 300_000, `recorded ${total} events`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
