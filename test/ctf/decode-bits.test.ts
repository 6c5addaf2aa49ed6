// Bit-level decoding of hand-made bytes in both byte orders, through the generated decoders.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type {
  ByteOrder,
  FieldClass,
  IntegerFieldClass,
  StructFieldClass,
} from '../../src/ctf/ir/trace-class.js';
import { compileScope } from '../../src/ctf/decode/codegen.js';
import { DecodeState } from '../../src/ctf/decode/state.js';
import { rdBE32, rdLE32, rd64 } from '../../src/ctf/decode/bits.js';
import { VariantValue } from '../../src/ctf/ir/message.js';

function int(size: number, bo: ByteOrder, opts: Partial<IntegerFieldClass> = {}): IntegerFieldClass {
  return {
    kind: 'int',
    size,
    signed: false,
    byteOrder: bo,
    base: 10,
    encoding: 'none',
    align: size % 8 === 0 ? 8 : 1,
    hidden: false,
    ...opts,
  };
}
function struct(members: Array<[string, FieldClass]>, align = 1): StructFieldClass {
  return {
    kind: 'struct',
    align: Math.max(align, ...members.map(([, fc]) => fc.align)),
    hidden: false,
    members: members.map(([name, fc]) => ({ name, originalName: name, fc })),
  };
}
function decode(fc: StructFieldClass, bytes: number[], slots = 4): { value: unknown; state: DecodeState } {
  const st = new DecodeState(slots);
  st.setPacket(Uint8Array.from(bytes));
  const value = compileScope(fc, { effects: true, values: true })(st);
  return { value, state: st };
}

test('LE bit fields fill bytes from the low bits', () => {
  // a:3 = 5, b:5 = 17, c:12 = 0xABC, d:4 = 9  -> bits LSB first
  // byte0 = a | b<<3 = 5 | 136 = 0x8D; then c (12 bits) and d (4 bits): 0xABC | 9<<12 = 0x9ABC
  const fc = struct([
    ['a', int(3, 'le')],
    ['b', int(5, 'le')],
    ['c', int(12, 'le')],
    ['d', int(4, 'le')],
  ]);
  const { value, state } = decode(fc, [0x8d, 0xbc, 0x9a]);
  assert.deepEqual(value, { a: 5, b: 17, c: 0xabc, d: 9 });
  assert.equal(state.pos, 24);
});

test('BE bit fields fill bytes from the high bits', () => {
  // a:3 = 5 -> 101, b:5 = 17 -> 10001 => byte0 = 1011 0001 = 0xB1; c:12 = 0xABC, d:4 = 9 => 0xAB 0xC9
  const fc = struct([
    ['a', int(3, 'be')],
    ['b', int(5, 'be')],
    ['c', int(12, 'be')],
    ['d', int(4, 'be')],
  ]);
  const { value } = decode(fc, [0xb1, 0xab, 0xc9]);
  assert.deepEqual(value, { a: 5, b: 17, c: 0xabc, d: 9 });
});

test('signed values are sign-extended from n bits; byte-aligned fast paths in both orders', () => {
  const fc = struct([
    ['s3', int(3, 'le', { signed: true })],
    ['pad', int(5, 'le')],
    ['s16le', int(16, 'le', { signed: true })],
    ['s16be', int(16, 'be', { signed: true })],
    ['u32be', int(32, 'be')],
    ['s8', int(8, 'le', { signed: true })],
  ]);
  const { value } = decode(fc, [0x06, 0xfe, 0xff, 0xff, 0xfd, 0xde, 0xad, 0xbe, 0xef, 0x80]);
  assert.deepEqual(value, { s3: -2, pad: 0, s16le: -2, s16be: -3, u32be: 0xdeadbeef, s8: -128 });
});

test('64-bit values: numbers below 2^53, bigints above, both orders, unaligned too', () => {
  const fc = struct([
    ['small', int(64, 'le')],
    ['big', int(64, 'be')],
    ['neg', int(64, 'le', { signed: true })],
    ['min', int(64, 'be', { signed: true })],
  ]);
  const bytes = [
    1, 0, 0, 0, 0, 0, 0, 0, // 1
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // u64 max
    0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // -2
    0x80, 0, 0, 0, 0, 0, 0, 0, // s64 min
  ];
  const { value } = decode(fc, bytes);
  assert.deepEqual(value, { small: 1, big: 0xffffffffffffffffn, neg: -2, min: -(2n ** 63n) });
  // unaligned 64-bit: 4-bit pad then a 64-bit LE value 0x0123456789ABCDEF
  const bits = struct([['pad', int(4, 'le')], ['v', int(64, 'le', { align: 1 })]]);
  const v = 0x0123456789abcdefn << 4n;
  const b: number[] = [];
  for (let i = 0n; i < 9n; i++) b.push(Number((v >> (8n * i)) & 0xffn));
  assert.deepEqual(decode(bits, b).value, { pad: 0, v: 0x0123456789abcdefn });
  assert.equal(rd64(Uint8Array.from([0, 0, 0, 0, 0, 0, 0x10, 0]), 0, 64, true, false), 2 ** 52);
});

test('generic reads agree with a bigint reference on random positions', () => {
  const bytes = Uint8Array.from({ length: 16 }, (_, i) => (i * 73 + 29) & 0xff);
  let le = 0n;
  for (let i = 15; i >= 0; i--) le = (le << 8n) | BigInt(bytes[i]!);
  let be = 0n;
  for (let i = 0; i < 16; i++) be = (be << 8n) | BigInt(bytes[i]!);
  for (let p = 0; p < 60; p += 7) {
    for (const n of [1, 5, 13, 24, 31, 32]) {
      const refLE = Number((le >> BigInt(p)) & ((1n << BigInt(n)) - 1n));
      const refBE = Number((be >> BigInt(128 - p - n)) & ((1n << BigInt(n)) - 1n));
      assert.equal(rdLE32(bytes, p, n), refLE, `LE p=${p} n=${n}`);
      assert.equal(rdBE32(bytes, p, n), refBE, `BE p=${p} n=${n}`);
    }
  }
});

test('alignment is in bits from the packet start; floats; strings; text arrays stop at NUL', () => {
  const f32: FieldClass = { kind: 'float', size: 32, byteOrder: 'le', align: 32, hidden: false };
  const f64be: FieldClass = { kind: 'float', size: 64, byteOrder: 'be', align: 8, hidden: false };
  const str: FieldClass = { kind: 'string', encoding: 'utf8', align: 8, hidden: false };
  const u8e = int(8, 'le', { encoding: 'utf8' });
  const ta: FieldClass = { kind: 'array', length: 5, element: u8e, isText: true, align: 8, hidden: false };
  const fc = struct([
    ['b', int(1, 'le')],
    ['f', f32],
    ['d', f64be],
    ['s', str],
    ['t', ta],
  ]);
  const buf = new Uint8Array(4 + 4 + 8 + 7 + 5);
  buf[0] = 1;
  new DataView(buf.buffer).setFloat32(4, 1.5, true);
  new DataView(buf.buffer).setFloat64(8, -0.25, false);
  buf.set(new TextEncoder().encode('héllo\0'), 16);
  buf.set([0x61, 0x62, 0, 0x63, 0x64], 23);
  const { value, state } = decode(fc, [...buf]);
  assert.deepEqual(value, { b: 1, f: 1.5, d: -0.25, s: 'héllo', t: 'ab' });
  assert.equal(state.pos, buf.length * 8);
});

test('sequences, variants, hidden members, slots and clock updates with wrap', () => {
  const len = int(8, 'le', { storeSlot: 0 });
  const tag: FieldClass = {
    kind: 'enum',
    align: 8,
    hidden: false,
    container: int(8, 'le'),
    mappings: [],
    storeSlot: 1,
  };
  const clock = { name: 'c', frequency: 1e9, offsetSeconds: 0n, offsetCycles: 0n, precision: 0, originIsUnixEpoch: false };
  const ts = int(8, 'le', { mappedClock: clock, hidden: true });
  const seq: FieldClass = { kind: 'sequence', lengthSlot: 0, element: int(16, 'be'), isText: false, align: 8, hidden: false };
  const variant: FieldClass = {
    kind: 'variant',
    tagSlot: 1,
    align: 1,
    hidden: false,
    options: [
      { name: 'a', originalName: 'a', fc: int(8, 'le'), ranges: [[0n, 0n]] },
      { name: 'b', originalName: 'b', fc: str(), ranges: [[1n, 3n]] },
    ],
  };
  function str(): FieldClass {
    return { kind: 'string', encoding: 'utf8', align: 8, hidden: false };
  }
  const fc = struct([
    ['ts', ts],
    ['len', len],
    ['seq', seq],
    ['tag', tag],
    ['v', variant],
  ]);
  const st = new DecodeState(2);
  st.clock = 0x1f0;
  st.setPacket(Uint8Array.from([0x05, 2, 0, 1, 0, 2, 2, 0x68, 0x69, 0]));
  const dec = compileScope(fc, { effects: true, values: true });
  const value = dec(st);
  assert.deepEqual(value, { len: 2, seq: [1, 2], tag: 2, v: new VariantValue(1, 'hi') });
  // 0x05 < 0xf0 (low 8 bits of 0x1f0): wrapped once -> 0x205
  assert.equal(st.clock, 0x205);
  st.setPacket(Uint8Array.from([0x05, 0, 7, 0]));
  assert.throws(() => dec(st), /variant field class's option/);
});
