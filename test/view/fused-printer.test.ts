// The pretty sink's fused printers (fields read straight from the packet bytes) against the two references
// they must match: the value-object path (eager decoding, field-printer-codegen.ts) on every trace of the
// corpus with several option sets, and the real babeltrace2 on a generated trace whose values hit the
// corners of the fused code (64-bit halves, negative numbers, escapes, non-ASCII and long strings, text
// sequences, unaligned bit fields, nested structs and arrays, enums, floats, hidden length fields).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mux } from '../../src/graph/muxer.js';
import { openCtfFs } from '../../src/graph/source-ctf-fs.js';
import { OutputWriter } from '../../src/view/output-writer.js';
import { defaultPrettyOptions, type PrettyOptions } from '../../src/view/pretty-options.js';
import { PrettySink } from '../../src/view/pretty-sink.js';
import { CORPUS, traceDirs } from '../graph/corpus-helpers.js';


/** Pretty text of a trace through the lazy (fused) or eager (value-object) messages, and the error if any. */
async function print(dir: string, opts: PrettyOptions, eager: boolean): Promise<string> {
  const out = OutputWriter.memory(opts.stringEncoding);
  const warnings: string[] = [];
  const sink = new PrettySink(opts, out, (l) => warnings.push(l), false);
  let error = '';
  try {
    const source = await openCtfFs([dir], { warn: () => {} });
    for await (const batch of mux(source.createStreams({ eager }), { batchSize: 64 })) sink.consume(batch);
  } catch (err) {
    error = String((err as Error).message);
  }
  return out.text() + '\n--\n' + warnings.join('') + '\n--\n' + error;
}

const OPTION_SETS: Array<[string, Partial<PrettyOptions>]> = [
  ['default', {}],
  ['names everywhere', { nameHeader: true, nameScope: true }],
  ['no field names', { namePayload: false, nameContext: false }],
  ['latin1 strings', { stringEncoding: 'latin1' }],
];

test('fused printers print what the value-object printers print, on the whole corpus', async () => {
  const dirs = traceDirs(CORPUS).filter((d) => !d.includes('/expected'));
  assert.ok(dirs.length > 50, `corpus at ${CORPUS} has traces`);
  let compared = 0;
  for (const dir of dirs) {
    for (const [label, o] of OPTION_SETS) {
      const opts = { ...defaultPrettyOptions(), color: 'never' as const, ...o };
      const fused = await print(dir, opts, false);
      const objects = await print(dir, opts, true);
      assert.equal(fused, objects, `${dir} (${label})`);
      compared++;
    }
  }
  assert.ok(compared > 200);
});

const METADATA = `/* CTF 1.8 */
typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
typealias integer { size = 64; align = 8; signed = false; } := uint64_t;
trace {
  major = 1; minor = 8; byte_order = le;
  packet.header := struct { uint32_t magic; uint32_t stream_id; };
};
env { hostname = "fused-host"; };
clock { name = "c"; freq = 1000000000; offset_s = 1600000000; };
typealias integer { size = 64; align = 8; signed = false; map = clock.c.value; } := clk_t;
stream {
  id = 0;
  packet.context := struct { uint64_t packet_size; uint64_t content_size; clk_t timestamp_begin; clk_t timestamp_end; };
  event.header := struct { uint8_t id; clk_t timestamp; };
};
enum color_t : integer { size = 8; align = 8; signed = false; } { RED = 0, GREEN = 1, BLUE = 2 ... 5 };
event {
  name = "corners"; id = 0; stream_id = 0;
  fields := struct {
    integer { size = 64; align = 8; signed = true; } s64;
    integer { size = 64; align = 8; signed = false; } u64;
    integer { size = 64; align = 8; signed = false; base = 16; } x64;
    integer { size = 32; align = 8; signed = true; } s32;
    integer { size = 16; align = 8; signed = false; base = 8; } o16;
    integer { size = 5; align = 1; signed = true; } bits5;
    integer { size = 3; align = 1; signed = false; base = 2; } bits3;
    integer { size = 12; align = 1; signed = false; } bits12;
    enum color_t color;
    floating_point { exp_dig = 11; mant_dig = 53; align = 8; } dbl;
    string text;
    uint8_t len;
    integer { size = 8; align = 8; signed = false; encoding = UTF8; } seq[len];
    integer { size = 8; align = 8; signed = false; encoding = UTF8; } arr[6];
    struct { uint32_t a; integer { size = 32; align = 8; signed = true; } b[2]; } inner;
  };
};
`;

interface Corner {
  s64: bigint;
  u64: bigint;
  x64: bigint;
  s32: number;
  o16: number;
  bits5: number;
  bits3: number;
  bits12: number;
  color: number;
  dbl: number;
  text: Buffer;
  seq: Buffer;
  arr: Buffer;
  a: number;
  b: [number, number];
}

function writeTrace(dir: string, corners: Corner[]): void {
  writeFileSync(join(dir, 'metadata'), METADATA);
  let t = 1000n;
  // Alignment inside events depends on absolute bit positions: the packet is built field by field.
  const out: number[] = [];
  const align = (a: number): void => {
    while (out.length % a !== 0) out.push(0);
  };
  const put = (b: Buffer): void => {
    for (const x of b) out.push(x);
  };
  const le = (v: bigint, n: number, signed = false): Buffer => {
    const b = Buffer.alloc(n);
    if (n === 8) signed ? b.writeBigInt64LE(v) : b.writeBigUInt64LE(v);
    else if (n === 4) signed ? b.writeInt32LE(Number(v)) : b.writeUInt32LE(Number(v));
    else if (n === 2) b.writeUInt16LE(Number(v));
    else b[0] = Number(v);
    return b;
  };
  put(le(0xc1fc1fc1n, 4));
  put(le(0n, 4));
  const ctxAt = out.length;
  put(Buffer.alloc(32));
  for (const c of corners) {
    // Every field is byte-aligned (TSDL `align` counts bits): no padding anywhere but the packet's end.
    put(le(0n, 1));
    put(le(t, 8));
    t += 1234567n;
    put(le(c.s64, 8, true));
    put(le(c.u64, 8));
    put(le(c.x64, 8));
    put(le(BigInt(c.s32), 4, true));
    put(le(BigInt(c.o16), 2));
    const bits = (c.bits5 & 31) | ((c.bits3 & 7) << 5) | ((c.bits12 & 4095) << 8);
    put(Buffer.from([bits & 255, (bits >> 8) & 255]));
    // bits12 ends at bit 20 of this run: 3 bytes in all (the third holds its top 4 bits).
    out.push((bits >> 16) & 255);
    put(Buffer.from([c.color]));
    const d = Buffer.alloc(8);
    d.writeDoubleLE(c.dbl);
    put(d);
    put(c.text);
    out.push(0);
    out.push(c.seq.length);
    put(c.seq);
    put(c.arr);
    put(le(BigInt(c.a), 4));
    put(le(BigInt(c.b[0]), 4, true));
    put(le(BigInt(c.b[1]), 4, true));
  }
  const content = out.length;
  align(8);
  const total = out.length;
  const pkt = Buffer.from(out);
  pkt.writeBigUInt64LE(BigInt(total * 8), ctxAt);
  pkt.writeBigUInt64LE(BigInt(content * 8), ctxAt + 8);
  pkt.writeBigUInt64LE(1000n, ctxAt + 16);
  pkt.writeBigUInt64LE(t, ctxAt + 24);
  writeFileSync(join(dir, 'stream_0'), pkt);
}

test('fused printers print what babeltrace2 prints on corner values', { skip: !statSync('/usr/bin/babeltrace2', { throwIfNoEntry: false }) && 'babeltrace2 is not installed' }, async () => {
  const dir = process.env['KEEP_DIR'] ?? mkdtempSync(join(tmpdir(), 'ltt-fused-'));
  try {
    const base: Corner = {
      s64: 0n,
      u64: 0n,
      x64: 0n,
      s32: 0,
      o16: 0,
      bits5: 0,
      bits3: 0,
      bits12: 0,
      color: 0,
      dbl: 0,
      text: Buffer.from(''),
      seq: Buffer.from(''),
      arr: Buffer.from('abcdef'),
      a: 0,
      b: [0, 0],
    };
    const corners: Corner[] = [
      base,
      { ...base, s64: -1n, u64: 4294967295n, x64: 4294967295n, s32: -1, o16: 0o177777, bits5: -16, bits3: 7, bits12: 4095 },
      { ...base, s64: -4294967296n, u64: 4294967296n, x64: 4294967296n, s32: -2147483648, bits5: 15, color: 2 },
      { ...base, s64: -9223372036854775808n, u64: 18446744073709551615n, x64: 18446744073709551615n, color: 4, dbl: -0.1 },
      { ...base, s64: 9223372036854775807n, u64: 9007199254740993n, x64: 0xdeadbeefcafen, color: 9, dbl: 1e300 },
      { ...base, s64: -4294967295n, text: Buffer.from('quote " apos \' qm ? bs \\ tab \t nl \n del \x7f'), seq: Buffer.from('a"b') },
      { ...base, text: Buffer.from('héllo wörld ✓ 𝄞'), seq: Buffer.from('ü'), arr: Buffer.from([0x61, 0, 0x62, 0x63, 0x64, 0x65]) },
      { ...base, text: Buffer.from('x'.repeat(300)), seq: Buffer.from('y'.repeat(255)), arr: Buffer.from([0xc3, 0xbf, 0x41, 0x42, 0x43, 0x44]) },
      { ...base, text: Buffer.from('z'.repeat(256)), seq: Buffer.from([0xc3, 0xa9]), a: 4294967295, b: [-2147483648, 2147483647] },
      // Not UTF-8: babeltrace2 copies the bytes as they are (lone, truncated, overlong, surrogate, > U+10FFFF),
      // next to a valid character whose UTF-16 low half lies where escaped bytes are kept (U+10080).
      { ...base, text: Buffer.from([0xff, 0x41, 0xc3, 0x28, 0xe2, 0x82, 0x20, 0xf0, 0x90, 0x82, 0x80, 0x22, 0x80]), seq: Buffer.from([0x80, 0xfe, 0xc0, 0xaf]), arr: Buffer.from([0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80]) },
      { ...base, text: Buffer.concat([Buffer.from('long '.repeat(60)), Buffer.from([0xe9, 0x74, 0xe9])]), seq: Buffer.from([0xe2, 0x9c]) },
      // Byte-order marks are text too: at the start, and after an invalid byte.
      { ...base, text: Buffer.from([0xef, 0xbb, 0xbf, 0x41, 0xff, 0xef, 0xbb, 0xbf, 0x42]), seq: Buffer.from([0xef, 0xbb, 0xbf]), arr: Buffer.from([0xef, 0xbb, 0xbf, 0x43, 0, 0]) },
    ];
    writeTrace(dir, corners);
    for (const args of [[], ['-n', 'none'], ['--names', 'all', '--fields', 'all']]) {
      const bt = spawnSync('babeltrace2', [...args, dir], { encoding: 'buffer', env: { ...process.env, TZ: 'UTC' } });
      assert.equal(bt.status, 0, `babeltrace2 failed: ${bt.stderr.toString()}`);
      const ours = spawnSync(process.execPath, [join(process.cwd(), 'bin', 'ltt'), 'view', ...args, dir], {
        encoding: 'buffer',
        env: { ...process.env, TZ: 'UTC' },
      });
      assert.equal(ours.status, 0, ours.stderr.toString());
      assert.ok(bt.stdout.toString().split('\n').length >= corners.length, 'babeltrace2 printed the events');
      assert.equal(ours.stdout.toString('latin1'), bt.stdout.toString('latin1'), `ltt view ${args.join(' ')}`);
    }
  } finally {
    if (!process.env['KEEP_DIR']) rmSync(dir, { recursive: true, force: true });
  }
});
