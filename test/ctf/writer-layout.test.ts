// The CTF writer's bytes: packet header and LTTng packet context, compact/large/extended event headers chosen
// as the tracer does, page-rounded packet sizes with zero padding, index files v1.1, packetized metadata,
// tracefile size/count rotation, empty (beacon) packets, and the sink interface used by non-file outputs.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  CtfTraceWriter,
  type FieldDef,
  packetIndexEntryOf,
  type PacketIndexEntry,
  type StreamSink,
  type StreamSinkInfo,
  type TraceSink,
} from '../../src/ctf/writer/index.js';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-ctf-writer-layout-'));
after(() => {
  if (!process.env.LTT_KEEP_TMP) fs.rmSync(tmpRoot, { recursive: true, force: true });
});
let dirCount = 0;
const freshDir = (name: string): string => path.join(tmpRoot, `${name}-${dirCount++}`);

const CLOCK = { name: 'monotonic', frequency: 1e9, offsetSeconds: 1_700_000_000n, offsetCycles: 0n } as const;
const ENV = { hostname: 'lay', domain: 'kernel', tracer_name: 'lttng-modules', tracer_major: 2, tracer_minor: 13 } as const;
const ONE_INT: FieldDef[] = [{ name: 'v', kind: 'int', size: 32 }];

function babeltrace(args: string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync('/usr/bin/babeltrace2', args, { env: { ...process.env, TZ: 'UTC' }, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

interface Packet {
  readonly offset: number;
  readonly magic: number;
  readonly uuid: string;
  readonly streamId: number;
  readonly instanceId: bigint;
  readonly tsBegin: bigint;
  readonly tsEnd: bigint;
  readonly contentBits: bigint;
  readonly packetBits: bigint;
  readonly seq: bigint;
  readonly discarded: bigint;
  readonly cpuId: number;
  readonly bytes: Buffer;
}

function packets(file: string): Packet[] {
  const b = fs.readFileSync(file);
  const out: Packet[] = [];
  for (let o = 0; o < b.length; ) {
    const packetBits = b.readBigUInt64LE(o + 56);
    const hex = b.subarray(o + 4, o + 20).toString('hex');
    out.push({
      offset: o,
      magic: b.readUInt32LE(o),
      uuid: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
      streamId: b.readUInt32LE(o + 20),
      instanceId: b.readBigUInt64LE(o + 24),
      tsBegin: b.readBigUInt64LE(o + 32),
      tsEnd: b.readBigUInt64LE(o + 40),
      contentBits: b.readBigUInt64LE(o + 48),
      packetBits,
      seq: b.readBigUInt64LE(o + 64),
      discarded: b.readBigUInt64LE(o + 72),
      cpuId: b.readUInt32LE(o + 80),
      bytes: b.subarray(o, o + Number(packetBits / 8n)),
    });
    assert.ok(packetBits > 0n, 'packet size is not zero');
    o += Number(packetBits / 8n);
  }
  return out;
}

function indexEntries(file: string): { header: number[]; entries: bigint[][] } {
  const b = fs.readFileSync(file);
  const header = [0, 4, 8, 12].map((o) => b.readUInt32BE(o));
  const entries: bigint[][] = [];
  for (let o = 16; o < b.length; o += 72) entries.push(Array.from({ length: 9 }, (_, k) => b.readBigUInt64BE(o + k * 8)));
  return { header, entries };
}

function formatTime(ts: bigint): string {
  const ns = 1_700_000_000n * 1_000_000_000n + ts;
  const d = new Date(Number(ns / 1_000_000n));
  const pad = (n: number): string => n.toString().padStart(2, '0');
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

describe('CTF writer binary layout', () => {
  test('compact headers: 27-bit timestamps while they cannot be misread, extended otherwise and for ids >= 31', async () => {
    const dir = freshDir('compact');
    const trace = await CtfTraceWriter.create({ dir, env: ENV, clock: CLOCK, uuid: '00112233-4455-6677-8899-aabbccddeeff' });
    for (let k = 0; k < 32; k++) trace.addEventClass({ name: `e${k}`, fields: ONE_INT });
    const s = trace.openStream({ fileName: 'chan_3', cpuId: 3, packetSize: 4096 });
    const base = 5 * 2 ** 27 - 3; // just below a 2^27 boundary: the next compact timestamp wraps
    const plan: [id: number, ts: number, extended: boolean][] = [
      [1, base, false], // delta 0 from timestamp_begin
      [2, base + 10, false], // low 27 bits wrap; the reader adds 2^27 back
      [3, base + 10 + 2 ** 27 - 1, false],
      [4, base + 10 + 2 * 2 ** 27 - 1, true], // delta exactly 2^27
      [5, base + 10 + 2 * 2 ** 27, false],
      [31, base + 10 + 2 * 2 ** 27 + 1, true], // id does not fit 5 bits
      [6, 2 ** 52 + 7, true],
    ];
    for (const [id, ts] of plan) s.write(id, ts, [id * 1000]);
    await trace.close();

    const [p, ...rest] = packets(path.join(dir, 'chan_3'));
    assert.equal(rest.length, 0);
    assert.equal(p!.magic, 0xc1fc1fc1);
    assert.equal(p!.uuid, '00112233-4455-6677-8899-aabbccddeeff');
    assert.equal(p!.streamId, 0);
    assert.equal(p!.instanceId, 3n);
    assert.equal(p!.cpuId, 3);
    assert.equal(p!.tsBegin, BigInt(base));
    assert.equal(p!.tsEnd, BigInt(2 ** 52 + 7));
    assert.equal(p!.seq, 0n);
    assert.equal(p!.discarded, 0n);
    assert.equal(p!.packetBits, 4096n * 8n);
    let o = 84;
    for (const [id, ts, extended] of plan) {
      const b = p!.bytes;
      if (extended) {
        assert.equal(b[o]! & 31, 31, `extended header for id ${id}`);
        assert.equal(b.readUInt32LE(o + 1), id);
        assert.equal(b.readBigUInt64LE(o + 5), BigInt(ts));
        o += 13;
      } else {
        const h = b.readUInt32LE(o);
        assert.equal(h & 31, id, `compact header for id ${id}`);
        assert.equal(h >>> 5, ts % 2 ** 27);
        o += 4;
      }
      assert.equal(b.readUInt32LE(o), id * 1000);
      o += 4;
    }
    assert.equal(p!.contentBits, BigInt(o * 8));
    assert.ok(p!.bytes.subarray(o).every((x) => x === 0), 'zero padding after the content');

    const out = babeltrace([dir]);
    assert.equal(out.status, 0, out.stderr);
    const lines = out.stdout.trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => /^\[([^\]]+)\].* (e\d+): \{ cpu_id = 3 \}, \{ v = (\d+) \}$/.exec(l)?.slice(1)),
      plan.map(([id, ts]) => [formatTime(BigInt(ts)), `e${id}`, String(id * 1000)]),
    );
  });

  test('large headers: 32-bit timestamps up to a delta of 2^32 - 1', async () => {
    const dir = freshDir('large');
    const trace = await CtfTraceWriter.create({ dir, env: ENV, clock: CLOCK, streamClasses: [{ id: 7, header: 'large' }] });
    const id = trace.addEventClass({ name: 'ev', streamClassId: 7, fields: ONE_INT });
    const s = trace.openStream({ streamClassId: 7, fileName: 'chan_0', cpuId: 0, packetSize: 4096 });
    const t0 = 2 ** 32 - 5;
    const plan: [ts: number, extended: boolean][] = [
      [t0, false],
      [t0 + 2 ** 32 - 1, false],
      [t0 + 2 * 2 ** 32 - 1, true],
      [t0 + 2 * 2 ** 32, false],
    ];
    for (const [ts] of plan) s.write(id, ts, [ts % 1000]);
    await trace.close();
    const [p] = packets(path.join(dir, 'chan_0'));
    assert.equal(p!.streamId, 7);
    let o = 84;
    for (const [ts, extended] of plan) {
      if (extended) {
        assert.equal(p!.bytes.readUInt16LE(o), 65535);
        assert.equal(p!.bytes.readUInt32LE(o + 2), id);
        assert.equal(p!.bytes.readBigUInt64LE(o + 6), BigInt(ts));
        o += 14;
      } else {
        assert.equal(p!.bytes.readUInt16LE(o), id);
        assert.equal(p!.bytes.readUInt32LE(o + 2), ts % 2 ** 32);
        o += 6;
      }
      o += 4;
    }
    const out = babeltrace([dir]);
    assert.equal(out.status, 0, out.stderr);
    assert.deepEqual(
      out.stdout.trimEnd().split('\n').map((l) => l.slice(1, 19)),
      plan.map(([ts]) => formatTime(BigInt(ts))),
    );
  });

  test('timestamp base: clock values beyond 2^53 written exactly from small numbers', async () => {
    const dir = freshDir('base');
    // Low 32 bits just below a wrap, so adding the base carries into the high half and wraps the 27-bit field.
    const base = (1n << 62n) + (0xfffffff0n);
    const trace = await CtfTraceWriter.create({
      dir,
      env: ENV,
      clock: { name: 'monotonic', frequency: 1e9, offsetSeconds: 0n, offsetCycles: 0n },
      timestampBase: base,
      streamClasses: [
        { id: 0, header: 'compact' },
        { id: 1, header: 'large' },
      ],
    });
    const c = trace.addEventClass({ name: 'c', fields: ONE_INT });
    const l = trace.addEventClass({ name: 'l', streamClassId: 1, fields: ONE_INT });
    const sc = trace.openStream({ fileName: 'compact_0', cpuId: 0, packetSize: 4096 });
    const sl = trace.openStream({ streamClassId: 1, fileName: 'large_0', cpuId: 0, packetSize: 4096 });
    const times = [1, 5, 20, 2 ** 27 - 3, 2 ** 27 + 40, 2 ** 28, 2 ** 33, 2 ** 33 + 2 ** 32 - 7, 2 ** 50];
    times.forEach((ts, k) => {
      sc.write(c, ts, [k]);
      sl.write(l, ts + 1, [k]);
    });
    await trace.close();
    const [p] = packets(path.join(dir, 'compact_0'));
    assert.equal(p!.tsBegin, base + 1n);
    assert.equal(p!.tsEnd, base + BigInt(2 ** 50));
    const idx = indexEntries(path.join(dir, 'index', 'large_0.idx')).entries;
    assert.deepEqual([idx[0]![3], idx[0]![4]], [base + 2n, base + BigInt(2 ** 50 + 1)]);
    const out = babeltrace(['--clock-cycles', dir]);
    assert.equal(out.status, 0, out.stderr);
    const expected = times
      .flatMap((ts, k) => [
        [base + BigInt(ts), `c: { cpu_id = 0 }, { v = ${k} }`],
        [base + BigInt(ts + 1), `l: { cpu_id = 0 }, { v = ${k} }`],
      ])
      .map(([cycles, rest]) => `[${cycles!.toString().padStart(20, '0')}] ${rest}`);
    assert.deepEqual(
      out.stdout.trimEnd().split('\n').map((line) => line.replace(/ \([^)]*\) lay /, ' ')),
      expected,
    );
  });

  test('packets: page-rounded sizes, fixed sizes on request, consecutive seq nums, cumulative discards, index v1.1', async () => {
    const dir = freshDir('packets');
    const trace = await CtfTraceWriter.create({ dir, env: ENV, clock: CLOCK });
    const id = trace.addEventClass({ name: 'blob', fields: [{ name: 'data', kind: 'sequence', element: { kind: 'int', size: 8, base: 16 } }] });
    const paged = trace.openStream({ fileName: 'chan_0', cpuId: 0, packetSize: 16384 });
    const fixed = trace.openStream({ fileName: 'chan_1', cpuId: 1, packetSize: 16384, pageSize: 16384 });
    const payload = [new Uint8Array(1000).fill(0xab)];
    let ts = 1000;
    for (let i = 0; i < 40; i++) {
      ts += 1000;
      paged.write(id, ts, payload);
      fixed.write(id, ts + 1, payload);
      if (i === 20) {
        paged.addDiscarded(3);
        fixed.skipPackets(2);
      }
    }
    ts += 1000;
    paged.flushPacket(ts); // the last packet is partial: its size is rounded to the page size only
    await trace.close();

    for (const [file, stream] of [
      ['chan_0', paged],
      ['chan_1', fixed],
    ] as const) {
      const ps = packets(path.join(dir, file));
      assert.equal(ps.length, stream.stats.packets);
      assert.equal(fs.statSync(path.join(dir, file)).size, stream.stats.bytes);
      const idx = indexEntries(path.join(dir, 'index', `${file}.idx`));
      assert.deepEqual(idx.header, [0xc1f1dcc1, 1, 1, 72]);
      assert.equal(idx.entries.length, ps.length);
      ps.forEach((p, k) => {
        assert.deepEqual(idx.entries[k], [
          BigInt(p.offset),
          p.packetBits,
          p.contentBits,
          p.tsBegin,
          p.tsEnd,
          p.discarded,
          BigInt(p.streamId),
          p.instanceId,
          p.seq,
        ]);
        assert.ok(p.contentBits <= p.packetBits);
        assert.ok(p.bytes.subarray(Number(p.contentBits / 8n)).every((x) => x === 0), 'zero padding');
        if (k > 0) assert.ok(p.tsBegin >= ps[k - 1]!.tsEnd, 'packets do not overlap in time');
      });
      if (file === 'chan_0') {
        // Page-rounded: full packets use the whole sub-buffer, the last one only the pages it needs.
        const last = ps[ps.length - 1]!;
        assert.equal(last.packetBits, BigInt(Math.ceil(Number(last.contentBits / 8n) / 4096) * 4096 * 8));
        assert.ok(last.packetBits < 16384n * 8n);
        assert.deepEqual(ps.map((p) => p.seq), ps.map((_, k) => BigInt(k)));
        assert.equal(ps[ps.length - 1]!.discarded, 3n);
        assert.equal(ps[0]!.discarded, 0n);
      } else {
        assert.ok(ps.every((p) => p.packetBits === 16384n * 8n), 'fixed-size packets');
        const gaps = ps.slice(1).map((p, k) => p.seq - ps[k]!.seq);
        assert.deepEqual(gaps.filter((g) => g !== 1n), [3n]);
      }
    }
    const out = babeltrace([dir]);
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout.trimEnd().split('\n').length, 80);
    assert.match(out.stderr, /Tracer discarded 3 events between .* within stream ".*chan_0"/);
    assert.match(out.stderr, /Tracer discarded 2 packets between .* within stream ".*chan_1"/);
  });

  test('metadata packets: LTTng header, 4096-byte packets, text cut anywhere, appended as classes are added', async () => {
    const dir = freshDir('meta');
    const trace = await CtfTraceWriter.create({ dir, env: ENV, clock: CLOCK, uuid: 'fedcba98-7654-3210-0123-456789abcdef' });
    const s = trace.openStream({ fileName: 'chan_0', cpuId: 0, packetSize: 4096 });
    const sizes: number[] = [fs.statSync(path.join(dir, 'metadata')).size];
    for (let k = 0; k < 40; k++) {
      const id = trace.addEventClass({ name: `syscall_entry_${k}`, fields: [{ name: 'fd', kind: 'int', size: 32, signed: true }, { name: 'buf', kind: 'string' }] });
      s.write(id, 1000 + k, [k, `b${k}`]);
      if (k % 10 === 9) {
        s.flushPacket();
        sizes.push(fs.statSync(path.join(dir, 'metadata')).size);
      }
    }
    await trace.close();
    // Declarations went out before the data packet that needs them, in new packets each time.
    assert.ok(sizes.every((v, k) => k === 0 || v > sizes[k - 1]!), `metadata grew: ${sizes.join(',')}`);
    const b = fs.readFileSync(path.join(dir, 'metadata'));
    assert.equal(b.length % 4096, 0);
    let text = '';
    for (let o = 0; o < b.length; o += 4096) {
      assert.equal(b.readUInt32LE(o), 0x75d11d57);
      assert.equal(b.subarray(o + 4, o + 20).toString('hex'), 'fedcba98765432100123456789abcdef');
      assert.equal(b.readUInt32LE(o + 20), 0, 'checksum');
      const content = b.readUInt32LE(o + 24);
      assert.equal(b.readUInt32LE(o + 28), 4096 * 8);
      assert.deepEqual([...b.subarray(o + 32, o + 37)], [0, 0, 0, 1, 8]);
      assert.ok(content % 8 === 0 && content <= 4096 * 8);
      text += b.subarray(o + 37, o + content / 8).toString('latin1');
      assert.ok(b.subarray(o + content / 8, o + 4096).every((x) => x === 0));
    }
    assert.equal(Buffer.from(text, 'latin1').toString('utf8'), trace.metadataText);
    assert.ok(text.startsWith('/* CTF 1.8 */\n'));
    const out = babeltrace([dir]);
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout.trimEnd().split('\n').length, 40);
  });

  test('tracefile size and count: CHANNEL_CPU_N files in a ring, oldest overwritten, each with its index', async () => {
    const dir = freshDir('rotation');
    const trace = await CtfTraceWriter.create({ dir, env: ENV, clock: CLOCK });
    const id = trace.addEventClass({ name: 'tick', fields: ONE_INT });
    // 3 packets of 4096 bytes fit a 12288-byte file; 3 files are kept: the last 9 packets survive.
    const ring = trace.openStream({ fileName: 'mychan_0', cpuId: 0, packetSize: 4096, tracefileSize: 12288, tracefileCount: 3 });
    const unlimited = trace.openStream({ fileName: 'mychan_1', cpuId: 1, packetSize: 4096, tracefileSize: 8192 });
    const perPacket = 5;
    for (let p = 0; p < 14; p++) {
      for (let e = 0; e < perPacket; e++) {
        const n = p * perPacket + e;
        ring.write(id, 1000 + n * 10, [n]);
        unlimited.write(id, 1005 + n * 10, [n]);
      }
      ring.flushPacket();
      unlimited.flushPacket();
    }
    await trace.close();
    const files = fs.readdirSync(dir).sort();
    assert.deepEqual(files, ['index', 'metadata', 'mychan_0_0', 'mychan_0_1', 'mychan_0_2', ...Array.from({ length: 7 }, (_, k) => `mychan_1_${k}`)].sort());
    const idx = fs.readdirSync(path.join(dir, 'index')).sort();
    assert.deepEqual(idx, files.filter((f) => f.startsWith('mychan_')).map((f) => `${f}.idx`).sort());
    // Ring: packets 0-2 went to _0, 3-5 to _1, 6-8 to _2, 9-11 back into _0, 12-13 into _1.
    const seqs = (f: string): bigint[] => packets(path.join(dir, f)).map((p) => p.seq);
    assert.deepEqual(seqs('mychan_0_0'), [9n, 10n, 11n]);
    assert.deepEqual(seqs('mychan_0_1'), [12n, 13n]);
    assert.deepEqual(seqs('mychan_0_2'), [6n, 7n, 8n]);
    for (const f of ['mychan_0_0', 'mychan_0_1', 'mychan_0_2']) {
      const entries = indexEntries(path.join(dir, 'index', `${f}.idx`)).entries;
      assert.deepEqual(entries.map((e) => e[8]), seqs(f));
      assert.deepEqual(entries.map((e) => e[0]), packets(path.join(dir, f)).map((p) => BigInt(p.offset)));
    }
    const out = babeltrace([dir]);
    assert.equal(out.status, 0, out.stderr);
    const got = out.stdout
      .trimEnd()
      .split('\n')
      .map((l) => /cpu_id = (\d) \}, \{ v = (\d+) \}/.exec(l)!.slice(1).join(':'));
    const expected: string[] = [];
    for (let n = 0; n < 14 * perPacket; n++) {
      if (n >= 6 * perPacket) expected.push(`0:${n}`);
      expected.push(`1:${n}`);
    }
    assert.deepEqual(got, expected);
  });

  test('timestamps never go backwards in a stream (clamped, NaN included)', async () => {
    const dir = freshDir('clamp');
    const trace = await CtfTraceWriter.create({ dir, env: ENV, clock: CLOCK });
    const id = trace.addEventClass({ name: 'x', fields: ONE_INT });
    const s = trace.openStream({ fileName: 'chan_0', cpuId: 0, packetSize: 4096 });
    for (const [k, ts] of [100, 50, Number.NaN, 2 ** 28, 7, 2 ** 28 + 1].entries()) s.write(id, ts, [k]);
    await trace.close();
    const out = babeltrace(['--clock-cycles', dir]);
    assert.equal(out.status, 0, out.stderr);
    assert.deepEqual(
      out.stdout.trimEnd().split('\n').map((l) => /^\[0*(\d+)\].* v = (\d) \}$/.exec(l)!.slice(1).join(':')),
      ['100:0', '100:1', '100:2', `${2 ** 28}:3`, `${2 ** 28}:4`, `${2 ** 28 + 1}:5`],
    );
  });

  test('packet filling: aligned, nested and variable-size records switch packets at the right byte', async () => {
    const dir = freshDir('filling');
    const trace = await CtfTraceWriter.create({ dir, env: ENV, clock: CLOCK });
    const fields: FieldDef[] = [
      { name: 'n', kind: 'int', size: 32 },
      { name: 'pair', kind: 'struct', fields: [{ name: 'a', kind: 'int', size: 8 }, { name: 'b', kind: 'int', size: 64, align: 64 }] },
      { name: 'label', kind: 'string' },
      { name: 'items', kind: 'sequence', lengthType: { kind: 'int', size: 8 }, element: { kind: 'struct', fields: [{ name: 'k', kind: 'int', size: 16, align: 16 }, { name: 'l', kind: 'string' }] } },
      { name: 'd', kind: 'array', length: 2, element: { kind: 'float', size: 64, align: 64 } },
      { name: 'bytes', kind: 'sequence', lengthType: { kind: 'int', size: 8 }, element: { kind: 'int', size: 8 } },
    ];
    const id = trace.addEventClass({ name: 'r', fields });
    const s = trace.openStream({ fileName: 'chan_0', cpuId: 0, packetSize: 300 });
    let seed = 7;
    const rand = (m: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % m;
    };
    const kept: number[] = [];
    for (let n = 0; n < 3000; n++) {
      const before = s.stats.discarded;
      const items = Array.from({ length: rand(4) }, (_, k) => [k, 'é'.repeat(rand(20))]);
      s.write(id, 1000 + n, [n, [n & 255, BigInt(n) << 40n], 'x'.repeat(rand(120)), items, [n / 2, -n], new Uint8Array(rand(300))]);
      if (s.stats.discarded === before) kept.push(n);
    }
    await trace.close();
    assert.ok(kept.length > 1000 && kept.length < 3000, `some records fit, some are too big (${kept.length} kept)`);
    assert.equal(s.stats.discarded, 3000 - kept.length);
    const ps = packets(path.join(dir, 'chan_0'));
    assert.ok(ps.every((p) => p.contentBits <= 300n * 8n && p.packetBits === 300n * 8n));
    const out = babeltrace([dir]);
    assert.equal(out.status, 0, out.stderr);
    assert.deepEqual(out.stdout.trimEnd().split('\n').map((l) => Number(/\{ n = (\d+),/.exec(l)![1])), kept);
    // The byte sequence with a u8 length keeps at most 255 elements.
    assert.ok(out.stdout.includes('_bytes_length = 255,') || !/_bytes_length = (2[6-9]\d|[3-9]\d\d)/.test(out.stdout));
  });

  test('a sequence with a narrow length field is capped to what the length can say', async () => {
    const dir = freshDir('cap');
    const trace = await CtfTraceWriter.create({ dir, env: ENV, clock: CLOCK });
    const id = trace.addEventClass({
      name: 'c',
      fields: [
        { name: 'a', kind: 'sequence', lengthType: { kind: 'int', size: 8 }, element: { kind: 'int', size: 16 } },
        { name: 't', kind: 'sequence', lengthType: { kind: 'int', size: 8 }, element: { kind: 'int', size: 8, encoding: 'UTF8' } },
        { name: 'after', kind: 'int', size: 32 },
      ],
    });
    const s = trace.openStream({ fileName: 'chan_0', cpuId: 0, packetSize: 8192 });
    s.write(id, 10, [Array.from({ length: 300 }, (_, k) => k), 'y'.repeat(400), 77]);
    await trace.close();
    const out = babeltrace([dir]);
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /_a_length = 255, a = \[ \[0\] = 0, .*\[254\] = 254 \], _t_length = 255, t = "y{255}", after = 77 \}/);
  });

  test('empty packets (switch-timer beacons) and flushes without events', async () => {
    const dir = freshDir('empty');
    const trace = await CtfTraceWriter.create({ dir, env: ENV, clock: CLOCK });
    const id = trace.addEventClass({ name: 'x', fields: ONE_INT });
    const s = trace.openStream({ fileName: 'chan_0', cpuId: 0, packetSize: 8192 });
    s.flushPacket(); // nothing open, no time given: nothing to do
    s.flushPacket(500); // beacon
    s.write(id, 600, [1]);
    s.flushPacket(700);
    s.flushPacket(900); // beacon after data
    s.openPacket(1000);
    s.flushPacket(1100);
    await trace.close();
    const ps = packets(path.join(dir, 'chan_0'));
    assert.deepEqual(
      ps.map((p) => [p.tsBegin, p.tsEnd, p.contentBits / 8n, p.packetBits / 8n, p.seq]),
      [
        [500n, 500n, 84n, 4096n, 0n],
        [600n, 700n, 92n, 4096n, 1n],
        [700n, 900n, 84n, 4096n, 2n],
        [1000n, 1100n, 84n, 4096n, 3n],
      ],
    );
    const out = babeltrace([dir]);
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout.trimEnd().split('\n').length, 1);
  });

  test('sink interface: packets and index entries reach a non-file sink, metadata always first', async () => {
    const log: string[] = [];
    const received: { info: StreamSinkInfo; packets: Buffer[]; entries: PacketIndexEntry[] }[] = [];
    let metadataText = '';
    const sink: TraceSink = {
      writeMetadata(packets: Uint8Array, text: string): void {
        assert.equal(packets.length % 4096, 0);
        metadataText += text;
        log.push(`metadata ${text.match(/name = "([^"]+)";\n\tid/g)?.length ?? 0}`);
      },
      openStream(info: StreamSinkInfo): StreamSink {
        const r = { info, packets: [] as Buffer[], entries: [] as PacketIndexEntry[] };
        received.push(r);
        return {
          writePacket(packet: Uint8Array, entry: PacketIndexEntry): void {
            r.packets.push(Buffer.from(packet)); // the view is only valid during the call
            r.entries.push(entry);
            log.push(`packet ${info.fileName} ${entry.packetSeqNum}`);
          },
          async close(): Promise<void> {
            log.push(`close ${info.fileName}`);
          },
        };
      },
      async close(): Promise<void> {
        log.push('close trace');
      },
    };
    const trace = await CtfTraceWriter.create({ sink, env: ENV, clock: CLOCK, streamClasses: [{ id: 0, header: 'large' }] });
    const a = trace.addEventClass({ name: 'a', fields: ONE_INT });
    const s = trace.openStream({ fileName: 'net_2', cpuId: 2, packetSize: 4096, streamInstanceId: 9 });
    s.write(a, 10, [1]);
    s.flushPacket();
    const b = trace.addEventClass({ name: 'b', fields: ONE_INT });
    s.write(b, 20, [2]);
    await trace.close();
    assert.deepEqual(log, ['metadata 0', 'metadata 1', 'packet net_2 0', 'metadata 1', 'packet net_2 1', 'close net_2', 'close trace']);
    assert.equal(metadataText, trace.metadataText);
    assert.equal(received.length, 1);
    assert.deepEqual(received[0]!.info, { fileName: 'net_2', streamClassId: 0, streamInstanceId: 9, cpuId: 2, tracefileSize: undefined, tracefileCount: undefined });
    const [e0, e1] = received[0]!.entries;
    assert.deepEqual(e0, {
      packetSizeBits: 4096 * 8,
      contentSizeBits: (84 + 6 + 4) * 8,
      timestampBegin: 10n,
      timestampEnd: 10n,
      eventsDiscarded: 0,
      streamId: 0,
      streamInstanceId: 9,
      packetSeqNum: 0,
    });
    assert.equal(e1!.packetSeqNum, 1);
    // A receiver of bare packets can rebuild the same entries.
    assert.deepEqual(received[0]!.packets.map((p) => packetIndexEntryOf(p)), received[0]!.entries);
    // Shorter than its content: not a packet. Its content and part of the padding: a packet not padded yet (ltt/ust
    // hands its sub-buffers' content to sinks, which pad them).
    assert.throws(() => packetIndexEntryOf(received[0]!.packets[0]!.subarray(0, 90)), /do not match/);
    assert.deepEqual(packetIndexEntryOf(received[0]!.packets[0]!.subarray(0, 100)), e0);
    assert.equal(received[0]!.packets[1]!.readBigUInt64LE(24), 9n);
    assert.equal(received[0]!.packets[1]!.readUInt32LE(80), 2);
  });

  test('session rotation: each chunk is a complete trace, together they read as one', async () => {
    const chunk1 = freshDir('chunk1');
    const chunk2 = freshDir('chunk2');
    const trace = await CtfTraceWriter.create({ dir: chunk1, env: ENV, clock: CLOCK });
    const a = trace.addEventClass({ name: 'a', fields: ONE_INT });
    const streams = [0, 1].map((cpu) => trace.openStream({ fileName: `chan_${cpu}`, cpuId: cpu, packetSize: 4096 }));
    for (let n = 0; n < 10; n++) streams[n % 2]!.write(a, 100 + n, [n]);
    await trace.rotate({ dir: chunk2 });
    const b = trace.addEventClass({ name: 'b', fields: ONE_INT }); // declared in the second chunk only
    for (let n = 10; n < 20; n++) streams[n % 2]!.write(n % 3 === 0 ? b : a, 100 + n, [n]);
    await trace.close();
    const names = (out: string): string[] => out.trimEnd().split('\n').map((l) => /lay (\w): .* v = (\d+)/.exec(l)!.slice(1).join(''));
    const expected = Array.from({ length: 20 }, (_, n) => `${n >= 10 && n % 3 === 0 ? 'b' : 'a'}${n}`);
    const one = babeltrace([chunk1]);
    assert.equal(one.status, 0, one.stderr);
    assert.deepEqual(names(one.stdout), expected.slice(0, 10));
    const two = babeltrace([chunk2]);
    assert.equal(two.status, 0, two.stderr);
    assert.deepEqual(names(two.stdout), expected.slice(10));
    const both = babeltrace([chunk1, chunk2]);
    assert.equal(both.status, 0, both.stderr);
    assert.deepEqual(names(both.stdout), expected);
    assert.equal(both.stderr, '', 'no packet looks lost across chunks');
    assert.deepEqual(packets(path.join(chunk2, 'chan_0')).map((p) => p.seq), [1n]);
  });

  test('rotation moves every stream to the next chunk at once, while the old files are still written behind', async () => {
    // The old chunk's streams close only when released, as a file sink's do once what it writes behind is in.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const written: string[] = [];
    const chunk = (name: string, hold: boolean): TraceSink => ({
      writeMetadata(): void {},
      openStream(info: StreamSinkInfo): StreamSink {
        return {
          writePacket(_packet: Uint8Array, entry: PacketIndexEntry): void {
            written.push(`${name} ${info.fileName} ${entry.packetSeqNum}`);
          },
          close: () => (hold ? held : Promise.resolve()),
        };
      },
      close: async () => undefined,
    });
    const trace = await CtfTraceWriter.create({ sink: chunk('old', true), env: ENV, clock: CLOCK });
    const a = trace.addEventClass({ name: 'a', fields: ONE_INT });
    const streams = [0, 1].map((cpu) => trace.openStream({ fileName: `chan_${cpu}`, cpuId: cpu, packetSize: 4096 }));
    for (const s of streams) s.write(a, 100, [0]);
    const rotated = trace.rotate({ sink: chunk('new', false) }, 150);
    await new Promise((resolve) => setImmediate(resolve));
    // The old files are not closed yet: every stream writes into the new chunk already.
    for (const s of streams) {
      s.write(a, 200, [1]);
      s.flushPacket();
    }
    assert.deepEqual(written, ['old chan_0 0', 'old chan_1 0', 'new chan_0 1', 'new chan_1 1']);
    release();
    await rotated;
    await trace.close();
  });
});
