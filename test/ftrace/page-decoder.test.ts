// Page decoding: real pages from per_cpu/cpuN/trace_pipe_raw of a private instance, compared with what the
// kernel itself prints in the instance's `trace` file for the same records; plus hand-built pages for the
// record kinds a short run rarely produces (time extends, absolute stamps, discarded records, missed counts).
import { test, type TestContext } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import * as tracefs from '../../src/ftrace/tracefs.js';
import { parseHeaderEvent, parseHeaderPage, readEventFormat } from '../../src/ftrace/event-format.js';
import { PageDecoder } from '../../src/ftrace/page-decoder.js';
import { shapeEvent } from '../../src/ftrace/lttng-shaping.js';
import { skipUnlessApplied, subbufSizes } from '../kernel/subbuf-sizes.js';

function decoder(): PageDecoder {
  return new PageDecoder(parseHeaderPage(tracefs.readText('events/header_page')), parseHeaderEvent(tracefs.readText('events/header_event')));
}

test('real pages decode to what the kernel prints in `trace`', async (t) => {
  for (const size of subbufSizes(8192)) await t.test(`${size / 1024} KiB sub-buffers`, (st) => realPagesMatchTrace(st, size));
});

function realPagesMatchTrace(t: TestContext, askedPageSize: number): void {
  const inst = `ltt-test-pagedec-${process.pid}`;
  tracefs.mkdirInstance(inst);
  try {
    tracefs.writeText('tracing_on', '0', inst);
    tracefs.writeText('trace_clock', 'mono', inst);
    const pageSize = tracefs.applySubbufSize(inst, askedPageSize);
    if (skipUnlessApplied(t, askedPageSize, pageSize)) return;
    tracefs.writeText('events/sched/sched_switch/enable', '1', inst);
    tracefs.writeText('events/syscalls/sys_enter_chroot/enable', '1', inst);
    tracefs.writeText('events/syscalls/sys_exit_chroot/enable', '1', inst);
    tracefs.writeText('events/irq/irq_handler_entry/enable', '1', inst);
    tracefs.writeText('tracing_on', '1', inst);
    execFileSync('sleep', ['0.05']);
    execFileSync('chroot', ['/', 'true']);
    // chroot into a missing directory fails on purpose: its syscall_exit carries -ENOENT.
    spawnSync('chroot', ['/nonexistent-dir', 'true'], { stdio: 'ignore' });
    tracefs.writeText('tracing_on', '0', inst);
    // `trace` does not consume; read it before draining the pipes.
    const text = tracefs.readText('trace', inst).split('\n').filter((l) => l && !l.startsWith('#'));
    const expected = text.map((l) => {
      const m = /^\s*(.*)-(\d+)\s+\[(\d+)\]\s+\S+\s+(\d+)\.(\d+): (.*)$/.exec(l);
      if (!m) return assert.fail(`unparsed trace line: ${l}`);
      const rest = m[5 + 1]!;
      return { pid: Number(m[2]), cpu: Number(m[3]), us: BigInt(m[4]!) * 1000000n + BigInt(m[5]!), name: /^\w+/.exec(rest)![0], rest };
    });
    assert.ok(expected.some((e) => e.name === 'sched_switch'), 'expected.some((e) => e.name === \'sched_switch\')');
    const exitTexts = expected.filter((e) => / -> 0x/.test(e.rest)).map((e) => BigInt.asIntN(64, BigInt(e.rest.slice(e.rest.indexOf('-> ') + 3))));
    assert.ok(exitTexts.length >= 2, 'two chroot exits recorded');
    const dec = decoder();
    const sw = readEventFormat('sched', 'sched_switch');
    const swShape = shapeEvent(sw);
    const exitFmt = readEventFormat('syscalls', 'sys_exit_chroot');
    const exitShape = shapeEvent(exitFmt, 'syscall');
    const got: Array<{ pid: number; cpu: number; us: bigint; id: number; payload: unknown[] }> = [];
    const buf = Buffer.alloc(pageSize);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (const cpu of tracefs.cpuIds()) {
      const fd = tracefs.openPipeRaw(inst, cpu);
      try {
        for (;;) {
          let n: number;
          try {
            n = fs.readSync(fd, buf, 0, pageSize, null);
          } catch (err) {
            assert.equal((err as NodeJS.ErrnoException).code, 'EAGAIN');
            break;
          }
          if (n === 0) break;
          const info = dec.decodePage(dv, 0, n, (off, len) => {
            const ts = dec.timestamp[0]!;
            const id = dv.getUint16(off, true);
            const out: unknown[] = [];
            if (id === sw.id) swShape.convert(dv, buf, off, len, out);
            if (id === exitFmt.id) exitShape.convert(dv, buf, off, len, out);
            got.push({ pid: dv.getInt32(off + 4, true), cpu, us: BigInt(Math.floor((ts + 500) / 1000)) /* the kernel prints ns2usecs(): rounded */, id, payload: out });
          });
          assert.equal(info.missed, 0);
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    assert.equal(got.length, expected.length, 'same number of records');
    const key = (e: { cpu: number; us: bigint; pid: number }): string => `${e.cpu}/${e.us}/${e.pid}`;
    const gotKeys = got.map(key).sort();
    assert.deepEqual(gotKeys, expected.map(key).sort());
    // Field values of every sched_switch agree with the kernel's text.
    const switches = got.filter((g) => g.id === sw.id);
    const texts = new Map(expected.filter((e) => e.name === 'sched_switch').map((e) => [key(e), e.rest]));
    for (const s of switches) {
      const t = texts.get(key(s))!.replace(/^sched_switch: /, '');
      const [prevComm, prevTid, prevPrio, , nextComm, nextTid, nextPrio] = s.payload;
      assert.ok(t.startsWith(`prev_comm=${prevComm} prev_pid=${prevTid} prev_prio=${(prevPrio as number) + 100} `), `${t} vs ${JSON.stringify(s.payload)}`);
      assert.ok(t.endsWith(`next_comm=${nextComm} next_pid=${nextTid} next_prio=${(nextPrio as number) + 100}`), t);
    }
    const exits = got.filter((g) => g.id === exitFmt.id).map((g) => g.payload[0]);
    assert.deepEqual(exits.map((r) => BigInt(r as number)).sort(), exitTexts.sort());
    assert.ok(exits.includes(0), 'chroot / returned 0');
    assert.ok(exits.some((r) => typeof r === 'number' && r < 0), 'chroot into a missing dir returned -ENOENT');
  } finally {
    try {
      tracefs.writeText('events/enable', '0', inst);
    } finally {
      tracefs.rmdirInstance(inst);
    }
  }
}

/** A hand-built page: header (ts, commit) + records. */
function buildPage(baseTs: number, records: number[][], commitFlags = 0, missed?: number): { dv: DataView; size: number } {
  const words = records.flat();
  const size = 4096;
  const buf = Buffer.alloc(size);
  buf.writeBigUInt64LE(BigInt(baseTs), 0);
  let dataLen = words.length * 4;
  words.forEach((w, i) => buf.writeUInt32LE(w >>> 0, 16 + i * 4));
  if (missed !== undefined) buf.writeBigUInt64LE(BigInt(missed), 16 + dataLen);
  buf.writeUInt32LE((dataLen | commitFlags) >>> 0, 8);
  return { dv: new DataView(buf.buffer, buf.byteOffset, buf.byteLength), size };
}
const hdr = (typeLen: number, delta: number): number => ((delta << 5) | typeLen) >>> 0;

test('time extend, absolute time stamp, discarded records, long records', () => {
  const dec = decoder();
  const seen: Array<[number, number]> = [];
  const { dv, size } = buildPage(1000, [
    [hdr(2, 5), 0xaaaa, 0xbbbb], // 8-byte record at +5
    [hdr(30, 3), 2], // time extend: +3 + 2 << 27
    [hdr(1, 7), 0xcccc], // 4-byte record at +7
    [hdr(29, 9), 4], // a discarded 4-byte record (array[0] overwrote its data): skipped, its delta ignored
    [hdr(0, 1), 12, 1, 2], // long form: length 12 (8 data bytes after the length word)
    [hdr(31, 123), 1], // absolute: 123 + 1 << 27
    [hdr(1, 2), 0xeeee],
    [hdr(29, 0)], // padding to the end of the page
    [hdr(1, 2), 0xffff], // never reached
  ]);
  const info = dec.decodePage(dv, 0, size, (_off, len) => seen.push([dec.timestamp[0]!, len]));
  const t1 = 1005, t2 = t1 + 3 + 2 * 2 ** 27 + 7, t3 = t2 + 1, t4 = 123 + 2 ** 27 + 2;
  assert.deepEqual(seen, [[t1, 8], [t2, 4], [t3, 8], [t4, 4]]);
  assert.equal(info.records, 4);
  assert.equal(info.missed, 0);
});

test('missed-events flags: count stored after the data, or unknown', () => {
  const dec = decoder();
  const stored = buildPage(5, [[hdr(1, 1), 7]], 0xc0000000, 4242);
  assert.equal(dec.decodePage(stored.dv, 0, stored.size, () => {}).missed, 4242);
  const unknown = buildPage(5, [[hdr(1, 1), 7]], 0x80000000);
  assert.equal(dec.decodePage(unknown.dv, 0, unknown.size, () => {}).missed, -1);
});

test('a small missed-events count comes out as a small integer', () => {
  // `lo + 0 * 2^32` was a heap number even when whole: stored in info.missed and the streams' and readers'
  // counters (small integers until then), it changed their layout and threw away the consumer's optimized code.
  // Whether a value is a small integer only shows with V8's natives syntax, hence a child process.
  const decoderUrl = new URL('../../src/ftrace/page-decoder.js', import.meta.url).href;
  const code = `
    const { PageDecoder } = await import(${JSON.stringify(decoderUrl)});
    const dec = new PageDecoder(JSON.parse(process.argv[1]), JSON.parse(process.argv[2]));
    const buf = Buffer.alloc(4096);
    buf.writeUInt32LE(4, 16); // one 4-byte record: type_len 1
    buf.writeUInt32LE((8 | 0xc0000000) >>> 0, 8); // 8 data bytes, the missed count stored after them
    buf.writeBigUInt64LE(4242n, 24);
    const dv = new DataView(buf.buffer, buf.byteOffset, 4096);
    const m = dec.missedBefore(dv, 0, 4096);
    const info = dec.decodePage(dv, 0, 4096, () => {});
    process.stdout.write(JSON.stringify([m, %IsSmi(m), info.missed, %IsSmi(info.missed)]));`;
  const page = parseHeaderPage(tracefs.readText('events/header_page'));
  const event = parseHeaderEvent(tracefs.readText('events/header_event'));
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', code, JSON.stringify(page), JSON.stringify(event)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [4242, true, 4242, true]);
});

test('the first missed-events page, time extend and stamp leave the optimized page decoding optimized', () => {
  // Rare paths reached only after V8 optimized decodePageWith had no type feedback and deoptimized it, at the
  // first lost events, when a consumer is busiest; the decoder warms them up. Natives syntax: a child process.
  const decoderUrl = new URL('../../src/ftrace/page-decoder.js', import.meta.url).href;
  const code = `
    const { PageDecoder } = await import(${JSON.stringify(decoderUrl)});
    const dec = new PageDecoder(JSON.parse(process.argv[1]), JSON.parse(process.argv[2]));
    const page = (flags, words) => {
      const buf = Buffer.alloc(4096);
      words.forEach((w, i) => buf.writeUInt32LE(w >>> 0, 16 + i * 4));
      buf.writeUInt32LE(((words.length * 4) | flags) >>> 0, 8);
      buf.writeBigUInt64LE(7n, 16 + words.length * 4);
      return new DataView(buf.buffer, buf.byteOffset, 4096);
    };
    const plain = page(0, [(5 << 5) | 1, 0, (5 << 5) | 2, 0, 0]);
    const rare = page(0xc0000000, [(5 << 5) | 30, 1, (5 << 5) | 31, 1, (5 << 5) | 29, 4, (5 << 5) | 1, 0]);
    const f = Object.getPrototypeOf(dec).decodePageWith;
    %PrepareFunctionForOptimization(f);
    for (let i = 0; i < 3; i++) dec.decodePage(plain, 0, 4096, () => {});
    %OptimizeFunctionOnNextCall(f);
    dec.decodePage(plain, 0, 4096, () => {});
    const before = %GetOptimizationStatus(f);
    const info = dec.decodePage(rare, 0, 4096, () => {});
    const after = %GetOptimizationStatus(f);
    process.stdout.write(JSON.stringify([info.missed, info.records, (before & 16) !== 0, (after & 16) !== 0]));`;
  const page = parseHeaderPage(tracefs.readText('events/header_page'));
  const event = parseHeaderEvent(tracefs.readText('events/header_event'));
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', code, JSON.stringify(page), JSON.stringify(event)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [7, 1, true, true], '[missed, records, optimized before the rare page, optimized after it]');
});

test('a truncated or garbage page ends decoding without throwing', () => {
  const dec = decoder();
  const { dv, size } = buildPage(5, [[hdr(0, 1), 4000]]);
  let n = 0;
  dec.decodePage(dv, 0, size, () => n++);
  assert.equal(n, 0);
});

test('a warm page walk allocates nothing per record (no boxed timestamps), time extends and padding included', async () => {
  // A double carried by the walk's loop variables was boxed by the optimizing compiler: a 16-32-byte heap number
  // per record, the kernel consumer's main garbage (tens of minor GCs per run). Counted here as minor GCs over
  // 4 M records: boxed, 64 MB or more; unboxed, only the walk's result per page (under 1 MB).
  const { constants, PerformanceObserver } = await import('node:perf_hooks');
  const dec = decoder();
  const pages = 64;
  const buf = Buffer.alloc(pages * 4096);
  const perPage = Math.floor((4096 - 16 - 8 - 12) / 12);
  for (let i = 0; i < pages; i++) {
    const base = i * 4096;
    buf.writeBigUInt64LE(BigInt(36_000_000_000_000 + i * 1_000_000), base);
    let p = base + 16;
    buf.writeUInt32LE(hdr(30, 3), p); // a time extend
    buf.writeUInt32LE(1, p + 4);
    p += 8;
    buf.writeUInt32LE(hdr(29, 9), p); // a discarded record
    buf.writeUInt32LE(8, p + 4);
    p += 12;
    for (let r = 0; r < perPage; r++, p += 12) buf.writeUInt32LE(hdr(2, 100 + (r & 7)), p);
    buf.writeUInt32LE(p - base - 16, base + 8);
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let records = 0;
  // Only a small integer outside: a double stored in a closure variable is boxed too.
  const onRecord = (): void => {
    records++;
  };
  const walkAll = (rounds: number): void => {
    for (let k = 0; k < rounds; k++) for (let i = 0; i < pages; i++) dec.decodePage(dv, i * 4096, 4096, onRecord);
  };
  const roundsFor4M = Math.ceil(4_000_000 / (pages * perPage));
  let fewest = Infinity;
  // The first passes run before V8 has optimized the walk (an interpreter boxes every double): the best of a few.
  for (let attempt = 0; attempt < 4 && fewest > 1; attempt++) {
    walkAll(roundsFor4M);
    let minor = 0;
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (((e as unknown as { detail?: { kind?: number } }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
    });
    obs.observe({ entryTypes: ['gc'] });
    walkAll(roundsFor4M);
    await new Promise((resolve) => setTimeout(resolve, 50));
    obs.disconnect();
    fewest = Math.min(fewest, minor);
  }
  assert.ok(records >= 8_000_000 && dec.info.lastTimestamp > 36_000_000_000_000, `${records} records walked`);
  assert.ok(fewest <= 1, `${fewest} minor GCs while walking 4 M records`);
});
