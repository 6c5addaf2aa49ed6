// The CTF writer against the real reader: traces written with many event and field types are read by
// /usr/bin/babeltrace2 and its text must equal, byte for byte, what the written values give under
// babeltrace2 2.0.4's printing rules (docs/ctf-babeltrace.md section 2), warnings on stderr included.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { CtfTraceWriter, type FieldDef, type FieldType, type StreamWriter } from '../../src/ctf/writer/index.js';
import { events as readEvents, openTrace } from '../../src/ctf/index.js';
import { LttError } from '../../src/errors.js';
import { PEERS } from '../repo-paths.js';

const BT = '/usr/bin/babeltrace2';
const OFFSET_NS = 1_700_000_000_000_000_000n; // 2023-11-14 22:13:20 UTC

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-ctf-writer-'));
// LTT_KEEP_TMP=1 keeps the written traces for inspection.
after(() => {
  if (!process.env.LTT_KEEP_TMP) fs.rmSync(tmpRoot, { recursive: true, force: true });
});
let dirCount = 0;
function freshDir(name: string): string {
  return path.join(tmpRoot, `${name}-${dirCount++}`);
}

function babeltrace(args: string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(BT, args, { env: { ...process.env, TZ: 'UTC' }, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

// ---------------------------------------------------------------------------------------------------------------
// Expected text, from the values we wrote (babeltrace2 2.0.4 sink.text.pretty rules).

function escapeCString(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\' || ch === "'" || ch === '"' || ch === '?') out += `\\${ch}`;
    else if (c < 0x20 || c === 0x7f) {
      const named: Record<number, string> = { 7: 'a', 8: 'b', 27: 'e', 12: 'f', 10: 'n', 13: 'r', 9: 't', 11: 'v' };
      out += named[c] !== undefined ? `\\${named[c]}` : `\\x${c.toString(16).padStart(2, '0')}`;
    } else out += ch;
  }
  return out;
}

/** Bytes a text field of `length` bytes holds for a string value (UTF-8, no partial character). */
function textBytes(v: unknown, length?: number): Uint8Array {
  if (v instanceof Uint8Array) return length === undefined ? v : v.subarray(0, length);
  const b = Buffer.from(String(v ?? ''), 'utf8');
  if (length === undefined || b.length <= length) return b;
  let n = length;
  while (n > 0 && (b[n]! & 0xc0) === 0x80) n--; // do not cut a character
  return b.subarray(0, n);
}

function textString(bytes: Uint8Array): string {
  const z = bytes.indexOf(0);
  return `"${escapeCString(Buffer.from(z === -1 ? bytes : bytes.subarray(0, z)).toString('utf8'))}"`;
}

function formatG(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mant, expStr] = x.toExponential(5).split('e') as [string, string];
  const exp = Number(expStr);
  const strip = (s: string): string => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= 6) {
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${strip(mant)}e${exp < 0 ? '-' : '+'}${e}`;
  }
  return strip(x.toFixed(5 - exp));
}

function formatInt(t: { size: number; signed?: boolean; base?: number }, v: unknown): string {
  const raw = typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v ?? 0)));
  const value = t.signed ? BigInt.asIntN(t.size, raw) : BigInt.asUintN(t.size, raw);
  switch (t.base ?? 10) {
    case 16:
      return `0x${BigInt.asUintN(Math.ceil(t.size / 4) * 4, value).toString(16).toUpperCase()}`;
    case 8:
      return `0${BigInt.asUintN(Math.ceil(t.size / 3) * 3, value).toString(8)}`;
    case 2:
      return `0b${BigInt.asUintN(t.size, value).toString(2).padStart(t.size, '0')}`;
    default:
      return value.toString();
  }
}

function isTextElement(t: FieldType): boolean {
  return t.kind === 'int' && t.size === 8 && (t.encoding === 'UTF8' || t.encoding === 'ASCII');
}

function formatValue(t: FieldType, v: unknown): string {
  switch (t.kind) {
    case 'int':
      return formatInt(t, v);
    case 'enum': {
      const c = t.container;
      const raw = typeof v === 'bigint' ? v : BigInt(Number(v ?? 0));
      const value = c.signed ? BigInt.asIntN(c.size, raw) : BigInt.asUintN(c.size, raw);
      const labels = t.mappings
        .filter((m) => value >= BigInt(m.value) && value <= BigInt(m.end ?? m.value))
        .map((m) => `"${escapeCString(m.label)}"`);
      return `( ${labels.length === 0 ? '<unknown>' : labels.join(', ')} : container = ${formatInt(c, value)} )`;
    }
    case 'float':
      return formatG(t.size === 32 ? Math.fround(Number(v)) : Number(v));
    case 'string': {
      const s = String(v ?? '');
      const z = s.indexOf('\0');
      return `"${escapeCString(z === -1 ? s : s.slice(0, z))}"`;
    }
    case 'text':
      return textString(textBytes(v, t.length));
    case 'array': {
      if (isTextElement(t.element)) return textString(textBytes(v, t.length));
      const a = (v ?? []) as unknown[];
      const items = Array.from({ length: t.length }, (_, i) => `[${i}] = ${formatValue(t.element, a[i])}`);
      return items.length === 0 ? '[ ]' : `[ ${items.join(', ')} ]`;
    }
    case 'sequence': {
      if (isTextElement(t.element)) return textString(textBytes(v));
      const a = Array.from((v ?? []) as ArrayLike<unknown>);
      const items = a.map((e, i) => `[${i}] = ${formatValue(t.element, e)}`);
      return items.length === 0 ? '[ ]' : `[ ${items.join(', ')} ]`;
    }
    case 'struct':
      return formatFields(t.fields, (v ?? []) as unknown[]);
  }
}

function sequenceLength(t: FieldType, v: unknown): number {
  if (t.kind !== 'sequence') throw new Error('not a sequence');
  if (isTextElement(t.element) && typeof v === 'string') return Buffer.byteLength(v);
  return v == null ? 0 : (v as ArrayLike<unknown>).length;
}

function formatFields(fields: readonly FieldDef[], values: readonly unknown[]): string {
  const parts: string[] = [];
  fields.forEach((f, i) => {
    if (f.kind === 'sequence') parts.push(`_${f.name}_length = ${sequenceLength(f, values[i])}`);
    parts.push(`${f.name} = ${formatValue(f, values[i])}`);
  });
  return parts.length === 0 ? '{ }' : `{ ${parts.join(', ')} }`;
}

function formatTime(ts: number): string {
  const ns = OFFSET_NS + BigInt(ts);
  const d = new Date(Number(ns / 1_000_000n));
  const pad = (n: number): string => n.toString().padStart(2, '0');
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

function formatDelta(ns: bigint): string {
  return `+${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

interface WrittenEvent {
  readonly ts: number;
  readonly cpu: number;
  readonly name: string;
  readonly fields: readonly FieldDef[];
  readonly payload: readonly unknown[];
  readonly contextFields?: readonly FieldDef[];
  readonly context?: readonly unknown[];
}

function expectedLines(host: string, events: readonly WrittenEvent[]): string {
  const sorted = [...events].sort((a, b) => a.ts - b.ts);
  let prev: number | undefined;
  let out = '';
  for (const e of sorted) {
    const delta = prev === undefined ? '+?.?????????' : formatDelta(BigInt(e.ts - prev));
    prev = e.ts;
    let line = `[${formatTime(e.ts)}] (${delta}) ${host} ${e.name}: { cpu_id = ${e.cpu} }`;
    if (e.contextFields && e.contextFields.length > 0) line += `, ${formatFields(e.contextFields, e.context ?? [])}`;
    line += `, ${formatFields(e.fields, e.payload)}`;
    out += `${line}\n`;
  }
  return out;
}

/** Deterministic pseudo-random numbers (xorshift32) so failures reproduce. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Expected values as ltt's own reader decodes them (names without one leading underscore, text as strings).

function decodedValue(t: FieldType, v: unknown): unknown {
  switch (t.kind) {
    case 'int':
    case 'enum': {
      const c = t.kind === 'int' ? t : t.container;
      const raw = typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v ?? 0)));
      return c.signed ? BigInt.asIntN(c.size, raw) : BigInt.asUintN(c.size, raw);
    }
    case 'float':
      return t.size === 32 ? Math.fround(Number(v)) : Number(v);
    case 'string': {
      const str = String(v ?? '');
      const z = str.indexOf('\0');
      return z === -1 ? str : str.slice(0, z);
    }
    case 'text':
      return textValue(textBytes(v, t.length));
    case 'array':
      if (isTextElement(t.element)) return textValue(textBytes(v, t.length));
      return Array.from({ length: t.length }, (_, i) => decodedValue(t.element, ((v ?? []) as unknown[])[i]));
    case 'sequence':
      if (isTextElement(t.element)) return textValue(textBytes(v));
      return Array.from((v ?? []) as ArrayLike<unknown>, (e) => decodedValue(t.element, e));
    case 'struct':
      return decodedFields(t.fields, (v ?? []) as unknown[]);
  }
}

function textValue(bytes: Uint8Array): string {
  const z = bytes.indexOf(0);
  return Buffer.from(z === -1 ? bytes : bytes.subarray(0, z)).toString('utf8');
}

function decodedFields(fields: readonly FieldDef[], values: readonly unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  fields.forEach((f, i) => {
    if (f.kind === 'sequence') out[`_${f.name}_length`] = BigInt(sequenceLength(f, values[i]));
    out[f.name] = decodedValue(f, values[i]);
  });
  return out;
}

/** Integral numbers become bigints so 64-bit values compare whatever representation the reader picked. */
function normalize(v: unknown): unknown {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(normalize);
  if (v instanceof Uint8Array) return Array.from(v, (b) => BigInt(b));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
}

async function checkOwnReader(dir: string, written: readonly WrittenEvent[]): Promise<void> {
  const sorted = [...written].sort((a, b) => a.ts - b.ts);
  const opened = await openTrace([dir]);
  let i = 0;
  for await (const e of readEvents(opened)) {
    const w = sorted[i++];
    assert.ok(w, `reader returned more than ${sorted.length} events`);
    const where = `event ${i - 1} (${w.name} at ${w.ts})`;
    assert.equal(e.name, w.name, where);
    assert.equal(e.ns, OFFSET_NS + BigInt(w.ts), where);
    assert.deepEqual(normalize(e.packetContext), { cpu_id: BigInt(w.cpu) }, where);
    if (w.contextFields) assert.deepEqual(normalize(e.commonContext), normalize(decodedFields(w.contextFields, w.context ?? [])), where);
    assert.deepEqual(normalize(e.payload), normalize(decodedFields(w.fields, w.payload)), where);
  }
  assert.equal(i, sorted.length);
}

// ---------------------------------------------------------------------------------------------------------------
// Event classes covering every field type.

const INT_CONTAINER = { kind: 'int', size: 64, signed: true } as const;
const TASK_STATE: FieldDef = {
  name: 'prev_state',
  kind: 'enum',
  container: INT_CONTAINER,
  mappings: [
    { label: 'TASK_RUNNING', value: 0 },
    { label: 'TASK_INTERRUPTIBLE', value: 1 },
    { label: 'TASK_UNINTERRUPTIBLE', value: 2 },
    { label: 'EXIT_ZOMBIE', value: 32, end: 63 },
  ],
};

const SCHED_SWITCH: readonly FieldDef[] = [
  { name: 'prev_comm', kind: 'text', length: 16 },
  { name: 'prev_tid', kind: 'int', size: 32, signed: true },
  { name: 'prev_prio', kind: 'int', size: 32, signed: true },
  TASK_STATE,
  { name: 'next_comm', kind: 'text', length: 16 },
  { name: 'next_tid', kind: 'int', size: 32, signed: true },
  { name: 'next_prio', kind: 'int', size: 32, signed: true },
];

const INTEGERS: readonly FieldDef[] = [
  { name: 'u8', kind: 'int', size: 8 },
  { name: 's8', kind: 'int', size: 8, signed: true },
  { name: 'u16', kind: 'int', size: 16 },
  { name: 's16', kind: 'int', size: 16, signed: true },
  { name: 'u32', kind: 'int', size: 32 },
  { name: 's32', kind: 'int', size: 32, signed: true },
  { name: 'u64', kind: 'int', size: 64 },
  { name: 's64', kind: 'int', size: 64, signed: true },
  { name: 'x16', kind: 'int', size: 16, signed: true, base: 16 },
  { name: 'x64', kind: 'int', size: 64, base: 16 },
  { name: 'o32', kind: 'int', size: 32, base: 8 },
  { name: 'b8', kind: 'int', size: 8, base: 2 },
  { name: 'be32', kind: 'int', size: 32, signed: true, byteOrder: 'be' },
  { name: 'be64', kind: 'int', size: 64, base: 16, byteOrder: 'be' },
  { name: 'a32', kind: 'int', size: 32, align: 32 },
  { name: 'a64', kind: 'int', size: 64, signed: true, align: 64 },
];

const STRINGS: readonly FieldDef[] = [
  { name: 'msg', kind: 'string' },
  { name: 'comm', kind: 'text', length: 16 },
  { name: 'raw', kind: 'array', length: 4, element: { kind: 'int', size: 8, signed: true } },
  { name: 'filename', kind: 'sequence', element: { kind: 'int', size: 8, signed: true, encoding: 'UTF8' }, lengthType: { kind: 'int', size: 32 } },
  { name: 'empty', kind: 'string' },
  { name: 'empty_text', kind: 'sequence', element: { kind: 'int', size: 8, signed: true, encoding: 'UTF8' } },
];

const COMPOUND: readonly FieldDef[] = [
  { name: 'ids', kind: 'array', length: 3, element: { kind: 'int', size: 64 } },
  { name: 'matrix', kind: 'array', length: 2, element: { kind: 'array', length: 3, element: { kind: 'int', size: 16, signed: true } } },
  { name: 'vtids', kind: 'sequence', element: { kind: 'int', size: 32, signed: true }, lengthType: { kind: 'int', size: 32 } },
  { name: 'nothing', kind: 'sequence', element: { kind: 'int', size: 64 } },
  { name: 'names', kind: 'sequence', element: { kind: 'string' } },
  { name: 'f32', kind: 'float', size: 32 },
  { name: 'f64', kind: 'float', size: 64 },
  { name: 'floats', kind: 'array', length: 2, element: { kind: 'float', size: 64, align: 64 } },
  {
    name: 'pair',
    kind: 'struct',
    fields: [
      { name: 'key', kind: 'string' },
      { name: 'value', kind: 'int', size: 32, signed: true, base: 16 },
    ],
  },
  {
    name: 'pairs',
    kind: 'sequence',
    element: {
      kind: 'struct',
      fields: [
        { name: 'k', kind: 'int', size: 16 },
        { name: 'label', kind: 'string' },
      ],
    },
    lengthType: { kind: 'int', size: 8 },
  },
  TASK_STATE,
];

// babeltrace2 2.0.4 prints an empty string or text sequence as the previous value of the same field once its
// event objects get recycled (checked: same bytes, different output depending on the pool), so empty values go
// only in fields that are always empty (`empty`, `empty_text`, `nothing`).
const UNICODE = ['héllo ✓ 日本 🎉', 'tab\there nl\nbs\\ dq" sq\' qm?', 'ctl \x01\x7f\x1b', 'ab\0cd', 'x'];

function integerValues(r: () => number, i: number): unknown[] {
  const extremes = i % 3 === 0;
  return [
    extremes ? 255 : Math.floor(r() * 256),
    extremes ? -128 : Math.floor(r() * 256) - 128,
    extremes ? 65535 : Math.floor(r() * 65536),
    extremes ? -32768 : Math.floor(r() * 65536) - 32768,
    extremes ? 4294967295 : Math.floor(r() * 4294967296),
    extremes ? -2147483648 : Math.floor(r() * 4294967296) - 2147483648,
    extremes ? 18446744073709551615n : Math.floor(r() * 2 ** 53),
    extremes ? -9223372036854775808n : i % 3 === 1 ? 9223372036854775807n : -Math.floor(r() * 2 ** 53),
    extremes ? -2 : Math.floor(r() * 65536) - 32768,
    extremes ? 0xdeadbeefcafebaben : Math.floor(r() * 2 ** 40),
    i % 2 === 0 ? 8 : 0,
    i % 2 === 0 ? 5 : 255,
    extremes ? -123456789 : Math.floor(r() * 1000),
    0x0123456789abcdefn,
    i,
    -i * 1000003,
  ];
}

function stringValues(i: number): unknown[] {
  const msg = UNICODE[i % UNICODE.length]!;
  return [
    msg,
    i % 4 === 0 ? 'a-very-long-command-name' : i % 4 === 1 ? 'kworker/0:1H' : i % 4 === 2 ? Uint8Array.from([104, 105, 0, 120]) : 'ünïcödé-ñ',
    i % 2 === 0 ? [-1, 65, 0, 127] : Uint8Array.from([1, 2, 3, 4]),
    i % 3 === 0 ? 'a' : `/usr/lib/x86_64-linux-gnu/lib${i}.so 日本`,
    '',
    i % 2 === 0 ? '' : new Uint8Array(0),
  ];
}

function compoundValues(r: () => number, i: number): unknown[] {
  const vt = Array.from({ length: i % 4 }, (_, k) => 1000 + k * i);
  return [
    [1, 2n ** 63n, 18446744073709551615n],
    [
      [1, -2, 3],
      [-32768, 32767, i],
    ],
    vt,
    [],
    i % 2 === 0 ? [] : ['x', 'ÿ', UNICODE[i % UNICODE.length]!, '\u{1F600}'],
    [0.1, 1.5, -2.5e-7, 3.4028234663852886e38, 1e-45][i % 5],
    [1.5, 0.1, 1e100, -2.5e-7, 100000, 1e6, 3.14159, -0, 1 / 3, 123456789][i % 10],
    [r(), -r() * 1e10],
    [`key${i}`, -i],
    Array.from({ length: i % 3 }, (_, k) => [k, `l${k}`]),
    [0, 1, 2, 40, 7][i % 5],
  ];
}

// ---------------------------------------------------------------------------------------------------------------

let kernelTrace: { dir: string; written: WrittenEvent[] } | undefined;

describe('CTF writer read back by babeltrace2', () => {
  test('kernel-style trace: compact headers, all field types, 2 CPUs, wraps, discards, seq gaps, growing metadata', async () => {
    const dir = freshDir('kernel');
    const host = 'testhost';
    const trace = await CtfTraceWriter.create({
      dir,
      env: {
        hostname: host,
        domain: 'kernel',
        sysname: 'Linux',
        kernel_release: '6.18.0',
        kernel_version: '#1 SMP PREEMPT_DYNAMIC',
        tracer_name: 'lttng-modules',
        tracer_major: 2,
        tracer_minor: 13,
        tracer_patchlevel: 0,
        trace_buffering_scheme: 'global',
        trace_name: 'demo',
        trace_creation_datetime: '20261126T062000+0000',
      },
      clock: {
        name: 'monotonic',
        uuid: '58a7910f-f43e-4f1c-a4f6-4beedb951d8f',
        description: 'Monotonic Clock',
        frequency: 1_000_000_000,
        offsetSeconds: 0n,
        offsetCycles: OFFSET_NS,
      },
      streamClasses: [{ id: 0, header: 'compact' }],
    });
    const classes: { name: string; fields: readonly FieldDef[] }[] = [
      { name: 'sched_switch', fields: SCHED_SWITCH },
      { name: 'integers', fields: INTEGERS },
      { name: 'strings', fields: STRINGS },
      { name: 'compound', fields: COMPOUND },
      { name: 'lttng_statedump_start', fields: [] },
    ];
    // More than 31 classes: ids >= 31 need the compact header's extended form.
    for (let k = 0; k < 36; k++) classes.push({ name: `syscall_entry_nr${k}`, fields: [{ name: 'arg', kind: 'int', size: 64, base: 16 }] });
    const ids = classes.map((c) => trace.addEventClass(c));
    assert.deepEqual(ids, classes.map((_, i) => i));

    const streams = [0, 1].map((cpu) => trace.openStream({ fileName: `channel0_${cpu}`, cpuId: cpu, packetSize: 4096 }));
    const written: WrittenEvent[] = [];
    const r = rng(42);
    let ts = 1000;
    const emit = (cpu: number, k: number, payload: unknown[]): void => {
      streams[cpu]!.write(k, ts, payload);
      written.push({ ts, cpu, name: classes[k]!.name, fields: classes[k]!.fields, payload });
    };
    const valuesFor = (k: number, i: number): unknown[] => {
      switch (k) {
        case 0:
          return ['swapper/1', i, 20, [0, 1, 2, 32, 63, 64][i % 6], i % 5 === 0 ? 'a-name-of-exactly16' : 'bash', 4242 + i, -i % 100];
        case 1:
          return integerValues(r, i);
        case 2:
          return stringValues(i);
        case 3:
          return compoundValues(r, i);
        case 4:
          return [];
        default:
          return [i % 2 === 0 ? 0xffffffffffffffffn : i * 4096];
      }
    };
    // Gaps that exercise the compact header's 27-bit timestamp: small, around 2^27 (both sides of a wrap), huge.
    const gaps = [1, 17, 999, 2 ** 27 - 1, 2 ** 27, 2 ** 27 + 1, 5, 123_456_789, 3_000_000_000, 60_000_000_000, 2];
    const phaseConsistent = (count: number, nClasses: number): void => {
      for (let i = 0; i < count; i++) {
        ts += gaps[i % gaps.length]!;
        const k = i < nClasses ? i : Math.floor(r() * nClasses);
        emit(i % 7 === 3 ? 1 : Math.floor(r() * 2), k, valuesFor(k, i));
      }
    };
    phaseConsistent(1500, classes.length);

    // Discarded events on CPU 0, between two explicit packet boundaries.
    const s0 = streams[0]!;
    const s1 = streams[1]!;
    ts += 10;
    const tf1 = ts;
    s0.flushPacket(tf1);
    s0.addDiscarded(7);
    ts += 10;
    emit(0, 0, valuesFor(0, 1));
    ts += 10;
    emit(0, 4, []);
    ts += 10;
    const tf2 = ts;
    s0.flushPacket(tf2);
    // A record larger than a whole packet is dropped and counted as discarded.
    ts += 10;
    s0.write(2, ts, ['x'.repeat(10000), '', [], '', '', '']);
    ts += 10;
    emit(0, 4, []);
    ts += 10;
    const tf3 = ts;
    s0.flushPacket(tf3);

    // Overwrite mode on CPU 1: three sub-buffers lost between two packets.
    ts += 10;
    const tg1 = ts;
    s1.flushPacket(tg1);
    s1.skipPackets(3);
    ts += 1000;
    const tg2 = ts;
    emit(1, 0, valuesFor(0, 2));

    // Growing metadata: a class enabled mid-trace (as `lttng enable-event` on a running session).
    const late: FieldDef[] = [
      { name: 'ret', kind: 'int', size: 64, signed: true },
      { name: 'buf', kind: 'sequence', element: { kind: 'int', size: 8, base: 16 } },
    ];
    const lateId = trace.addEventClass({ name: 'syscall_exit_read', fields: late });
    assert.equal(lateId, classes.length);
    classes.push({ name: 'syscall_exit_read', fields: late });
    for (let i = 0; i < 50; i++) {
      ts += 1 + (i % 5) * 1000;
      emit(i % 2, lateId, [-(i % 3) * 11, Uint8Array.from({ length: i % 6 }, (_, b) => b * 51)]);
    }
    phaseConsistent(600, classes.length);
    await trace.close();

    assert.equal(s0.stats.discarded, 8);
    assert.ok(s0.stats.packets > 5 && s1.stats.packets > 5, `several packets per stream: ${s0.stats.packets}, ${s1.stats.packets}`);
    assert.equal(s0.stats.events + s1.stats.events, written.length);

    const out = babeltrace([dir]);
    assert.equal(out.status, 0, out.stderr);
    const expected = expectedLines(host, written);
    if (process.env.LTT_KEEP_TMP) {
      fs.writeFileSync(path.join(tmpRoot, 'kernel.expected'), expected);
      fs.writeFileSync(path.join(tmpRoot, 'kernel.actual'), out.stdout);
    }
    assert.equal(out.stdout, expected);

    const uuid = trace.uuid;
    const stream0 = path.join(dir, 'channel0_0');
    const stream1 = path.join(dir, 'channel0_1');
    const warnings = [
      {
        at: tf1,
        text: `WARNING: Tracer discarded 7 events between [${formatTime(tf1)}] and [${formatTime(tf2)}] in trace "${host}" (UUID: ${uuid}) within stream "${stream0}" (stream class ID: 0, stream ID: 0).`,
      },
      {
        at: tf2,
        text: `WARNING: Tracer discarded 1 event between [${formatTime(tf2)}] and [${formatTime(tf3)}] in trace "${host}" (UUID: ${uuid}) within stream "${stream0}" (stream class ID: 0, stream ID: 0).`,
      },
      {
        at: tg1,
        text: `WARNING: Tracer discarded 3 packets between [${formatTime(tg1)}] and [${formatTime(tg2)}] in trace "${host}" (UUID: ${uuid}) within stream "${stream1}" (stream class ID: 0, stream ID: 1).`,
      },
    ].sort((a, b) => a.at - b.at);
    assert.equal(out.stderr, warnings.map((w) => `${w.text}\n`).join(''));

    // The metadata grew in several packets and still reads as one TSDL text.
    const meta = babeltrace(['-o', 'ctf-metadata', dir]);
    assert.equal(meta.status, 0, meta.stderr);
    assert.equal(meta.stdout, `${trace.metadataText}\n`);
    assert.ok(fs.statSync(path.join(dir, 'metadata')).size >= 3 * 4096);
    kernelTrace = { dir, written };
  });

  test('ltt\'s own reader (src/ctf) decodes the kernel-style trace to the written values', async () => {
    assert.ok(kernelTrace, 'the kernel-style trace test ran first');
    await checkOwnReader(kernelTrace.dir, kernelTrace.written);
  });

  test('UST-style trace: large headers, stream event context, per-PID env, two channels, 32-bit wraps', async () => {
    const dir = freshDir('ust');
    const trace = await CtfTraceWriter.create({
      dir,
      env: {
        hostname: 'vm',
        domain: 'ust',
        tracer_name: 'lttng-ust',
        tracer_major: 2,
        tracer_minor: 13,
        tracer_patchlevel: 5,
        tracer_buffering_scheme: 'pid',
        tracer_buffering_id: 4321,
        architecture_bit_width: 64,
        vpid: 4321,
        procname: 'node',
        vpid_datetime: '20261126T062000+0000',
        trace_name: 'sess',
        trace_creation_datetime: '20261126T062000+0000',
      },
      clock: { name: 'monotonic', description: 'Monotonic Clock', frequency: 1e9, offsetSeconds: 0n, offsetCycles: OFFSET_NS },
      streamClasses: [
        {
          id: 0,
          header: 'large',
          eventContext: [
            { name: 'vpid', kind: 'int', size: 32, signed: true },
            { name: 'vtid', kind: 'int', size: 32, signed: true },
            { name: 'procname', kind: 'text', length: 17 },
          ],
        },
        { id: 1, header: 'large' },
      ],
    });
    const ctxFields: FieldDef[] = [
      { name: 'vpid', kind: 'int', size: 32, signed: true },
      { name: 'vtid', kind: 'int', size: 32, signed: true },
      { name: 'procname', kind: 'text', length: 17 },
    ];
    const http: FieldDef[] = [
      { name: 'method', kind: 'string' },
      { name: 'url', kind: 'string' },
      { name: 'status', kind: 'int', size: 16 },
      { name: 'duration_ms', kind: 'float', size: 64 },
    ];
    const gc: FieldDef[] = [{ name: 'kind', kind: 'enum', container: { kind: 'int', size: 8 }, mappings: [{ label: 'scavenge', value: 1 }, { label: 'mark_sweep', value: 2, end: 3 }] }];
    const idHttp = trace.addEventClass({ name: 'node:http_request', logLevel: 13, fields: http });
    const idGc = trace.addEventClass({ name: 'node:gc', streamClassId: 1, logLevel: 6, emfUri: 'https://ltt.example/gc?kind="all"', fields: gc });
    assert.equal(idHttp, 0);
    assert.equal(idGc, 0);
    const a0 = trace.openStream({ fileName: 'channel0_0', cpuId: 0, packetSize: 4096 });
    const a1 = trace.openStream({ fileName: 'channel0_1', cpuId: 1, packetSize: 4096 });
    const b0 = trace.openStream({ streamClassId: 1, fileName: 'channel1_0', cpuId: 0, packetSize: 4096 });
    const written: WrittenEvent[] = [];
    let ts = 5;
    const gaps = [3, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 77, 1_000_000, 9_000_000_000];
    for (let i = 0; i < 300; i++) {
      ts += gaps[i % gaps.length]!;
      if (i % 5 === 4) {
        const payload = [1 + (i % 4)];
        b0.write(idGc, ts, payload);
        written.push({ ts, cpu: 0, name: 'node:gc', fields: gc, payload });
      } else {
        const cpu = i % 2;
        const payload = [i % 3 === 0 ? 'GET' : 'POST', `/api/v1/items/${i}?q=ü`, 200 + (i % 4), i / 7];
        const context = [4321, 4321 + cpu, 'node'];
        (cpu === 0 ? a0 : a1).write(idHttp, ts, payload, context);
        written.push({ ts, cpu, name: 'node:http_request', fields: http, payload, contextFields: ctxFields, context });
      }
    }
    await trace.close();
    const out = babeltrace([dir]);
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stderr, '');
    // Per-PID UST env: babeltrace prints HOST:PROCNAME:(VPID).
    assert.equal(out.stdout, expectedLines('vm:node:(4321)', written));
    const meta = babeltrace(['-o', 'ctf-metadata', dir]);
    assert.equal(meta.stdout, `${trace.metadataText}\n`);
    await checkOwnReader(dir, written);
  });

  test('metadata of a UST trace is byte-identical to what LTTng 2.13 wrote (peers/sample-ust-trace)', async () => {
    const sample = fs.readFileSync(path.join(PEERS, 'sample-ust-trace.metadata.tsdl'), 'utf8');
    const dir = freshDir('sample');
    const trace = await CtfTraceWriter.create({
      dir,
      uuid: '635d7f92-f3ee-4971-b7aa-50324f25a871',
      env: {
        domain: 'ust',
        tracer_name: 'lttng-ust',
        tracer_major: 2,
        tracer_minor: 13,
        tracer_buffering_scheme: 'uid',
        tracer_buffering_id: 0,
        architecture_bit_width: 64,
        trace_name: 'sample',
        trace_creation_datetime: '20261126T053044+0000',
        hostname: 'vm',
      },
      clock: {
        name: 'monotonic',
        uuid: '58a7910f-f43e-4f1c-a4f6-4beedb951d8f',
        description: 'Monotonic Clock',
        frequency: 1e9,
        offsetSeconds: 0n,
        offsetCycles: 1795667585591069578n,
      },
      streamClasses: [{ id: 0, header: 'large' }],
    });
    trace.addEventClass({
      name: 'prov:ev',
      logLevel: 13,
      fields: [
        { name: 'n', kind: 'int', size: 32, signed: true },
        { name: 's', kind: 'string' },
      ],
    });
    await trace.close();
    // babeltrace2 -o ctf-metadata adds one newline after the text.
    assert.equal(`${trace.metadataText}\n`, sample);
    const meta = babeltrace(['-o', 'ctf-metadata', dir]);
    assert.equal(meta.stdout, sample);
  });

  test('re-encoding the sample LTTng trace gives the same babeltrace2 text', async () => {
    const text = fs.readFileSync(path.join(PEERS, 'sample-ust-trace.babeltrace2.txt'), 'utf8');
    const offset = 1795667585591069578n;
    const dayStart = ((offset / 1_000_000_000n) / 86400n) * 86400n * 1_000_000_000n;
    const dir = freshDir('resample');
    const trace = await CtfTraceWriter.create({
      dir,
      env: { domain: 'ust', tracer_name: 'lttng-ust', tracer_major: 2, tracer_minor: 13, hostname: 'vm' },
      clock: { name: 'monotonic', frequency: 1e9, offsetSeconds: 0n, offsetCycles: offset },
      streamClasses: [{ id: 0, header: 'large' }],
    });
    const id = trace.addEventClass({
      name: 'prov:ev',
      logLevel: 13,
      fields: [
        { name: 'n', kind: 'int', size: 32, signed: true },
        { name: 's', kind: 'string' },
      ],
    });
    const streams = new Map<number, StreamWriter>();
    const re = /^\[(\d\d):(\d\d):(\d\d)\.(\d{9})\] \([^)]*\) vm prov:ev: \{ cpu_id = (\d+) \}, \{ n = (-?\d+), s = "([^"]*)" \}$/;
    let count = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const m = re.exec(line);
      assert.ok(m, `unexpected sample line ${line}`);
      const ns = dayStart + (BigInt(m[1]!) * 3600n + BigInt(m[2]!) * 60n + BigInt(m[3]!)) * 1_000_000_000n + BigInt(m[4]!);
      const cpu = Number(m[5]);
      let s = streams.get(cpu);
      if (!s) {
        s = trace.openStream({ fileName: `channel0_${cpu}`, cpuId: cpu, packetSize: 4096 * 64 });
        streams.set(cpu, s);
      }
      s.write(id, Number(ns - offset), [Number(m[6]), m[7]]);
      count++;
    }
    await trace.close();
    assert.equal(count, 1000);
    const out = babeltrace([dir]);
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout, text);
  });

  test('bad definitions and uses fail with one-line LttErrors', async () => {
    const dir = freshDir('errors');
    const trace = await CtfTraceWriter.create({
      dir,
      env: { hostname: 'h' },
      clock: { name: 'monotonic', frequency: 1e9, offsetSeconds: 0n, offsetCycles: 0n },
    });
    const bad: [string, FieldDef[]][] = [
      ['invalid field name', [{ name: 'a-b', kind: 'string' }]],
      ['duplicate field name', [{ name: 'a', kind: 'string' }, { name: 'a', kind: 'int', size: 8 }]],
      ['integer size', [{ name: 'a', kind: 'int', size: 12 as 8 }]],
      ['alignment', [{ name: 'a', kind: 'int', size: 8, align: 12 }]],
      ['does not fit its container', [{ name: 'e', kind: 'enum', container: { kind: 'int', size: 8 }, mappings: [{ label: 'x', value: 256 }] }]],
      ['must be unsigned', [{ name: 'q', kind: 'sequence', element: { kind: 'string' }, lengthType: { kind: 'int', size: 32, signed: true } }]],
      ['unknown field kind', [{ name: 'q', kind: 'blob' } as unknown as FieldDef]],
    ];
    for (const [message, fields] of bad) {
      assert.throws(
        () => trace.addEventClass({ name: 'bad', fields }),
        (err: unknown) => err instanceof LttError && err.code === 'CTF_WRITER_BAD_FIELD' && err.message.includes(message) && !err.message.includes('\n'),
        message,
      );
    }
    assert.throws(() => trace.addEventClass({ name: 'x', streamClassId: 9, fields: [] }), /no stream class 9/);
    const id = trace.addEventClass({ name: 'ok', fields: [] });
    assert.throws(() => trace.addEventClass({ name: 'dup', id, fields: [] }), /already used/);
    const s = trace.openStream({ fileName: 'chan_0', cpuId: 0, packetSize: 4096 });
    assert.throws(() => s.write(99, 1, []), (err: unknown) => err instanceof LttError && err.code === 'CTF_WRITER_UNKNOWN_EVENT');
    assert.throws(() => trace.openStream({ fileName: '../escape', cpuId: 0, packetSize: 4096 }), /invalid stream file name/);
    assert.throws(() => trace.openStream({ fileName: 'chan_0', cpuId: 1, packetSize: 4096 }), /already open/);
    s.write(id, 5, []);
    await s.close();
    assert.throws(() => s.write(id, 6, []), (err: unknown) => err instanceof LttError && err.code === 'CTF_WRITER_CLOSED');
    assert.throws(() => trace.openStream({ fileName: 'chan_1', cpuId: 0, packetSize: 10 }), /packet size/);
    await assert.rejects(
      CtfTraceWriter.create({ dir, env: { 'bad key': 1 }, clock: { name: 'm', frequency: 1e9, offsetSeconds: 0n, offsetCycles: 0n } }),
      /env key/,
    );
    await assert.rejects(
      CtfTraceWriter.create({ dir, env: {}, clock: { name: 'm', frequency: 0, offsetSeconds: 0n, offsetCycles: 0n } }),
      /frequency/,
    );
    await trace.close();
    assert.throws(() => trace.addEventClass({ name: 'late', fields: [] }), /after close/);
  });
});
