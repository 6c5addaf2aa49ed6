// CTF 2 (JSON) metadata front end: the corpus twins give the same model as their CTF 1.8 originals,
// and unit tests on fragments, field classes, roles and locations.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LttError } from '../../src/errors.js';
import type {
  EnumFieldClass,
  FieldClass,
  IntegerFieldClass,
  OptionalFieldClass,
  SequenceFieldClass,
  StringFieldClass,
  StructFieldClass,
  TraceClass,
  VariantFieldClass,
} from '../../src/ctf/ir/trace-class.js';
import { parseMetadata } from '../../src/ctf/metadata.js';
import { CORPUS } from '../repo-paths.js';


/**
 * A comparable description of a field class. CTF 1.8 text arrays/sequences and CTF 2
 * static/dynamic-length strings are the same thing (both print as strings), as are the 16-byte
 * UUID array and the UUID blob of packet headers.
 */
/** Slot numbers depend on declaration order: compare them renumbered by first appearance. */
let slotNames = new Map<number, number>();
function slot(n: number | undefined): string {
  if (n === undefined) return '';
  if (!slotNames.has(n)) slotNames.set(n, slotNames.size);
  return `#${slotNames.get(n)}`;
}

function canon(fc: FieldClass | undefined): unknown {
  if (!fc) return null;
  const h = fc.hidden ? 'hidden' : '';
  switch (fc.kind) {
    case 'int':
      return `int${fc.size}${fc.signed ? 's' : 'u'} ${fc.byteOrder} base${fc.base} align${fc.align} ${fc.mappedClock ? `clock=${fc.mappedClock.name}` : ''} ${fc.role ?? ''} ${slot(fc.storeSlot)} ${h}`;
    case 'enum':
      return { enum: canon(fc.container), mappings: fc.mappings.map((m) => `${m.label}:${m.ranges.map((r) => r.join('..')).join(',')}`).sort(), slot: slot(fc.storeSlot), h };
    case 'struct':
      return { struct: fc.members.map((m) => [m.name, canon(m.fc)]), align: fc.align, h };
    case 'variant':
      return { variant: fc.options.map((o) => [o.name, o.ranges.map((r) => r.join('..')).join(','), canon(o.fc)]), tag: slot(fc.tagSlot), h };
    case 'array':
      if (fc.isText) return `text[${fc.length}] ${h}`;
      if (fc.length === 16 && fc.element.kind === 'int' && fc.element.size === 8 && fc.hidden) return 'uuid';
      return { array: fc.length, element: canon(fc.element), align: fc.align, h };
    case 'sequence':
      return fc.isText ? `text[${slot(fc.lengthSlot)}] ${h}` : { sequence: slot(fc.lengthSlot), element: canon(fc.element), align: fc.align, h };
    case 'string':
      if (fc.staticLength !== undefined) return `text[${fc.staticLength}] ${h}`;
      if (fc.lengthSlot !== undefined) return `text[${slot(fc.lengthSlot)}] ${h}`;
      return `string ${h}`;
    case 'blob':
      return fc.staticLength === 16 ? 'uuid' : `blob ${fc.staticLength ?? fc.lengthSlot}`;
    case 'float':
      return `float${fc.size} ${fc.byteOrder} align${fc.align} ${h}`;
    default:
      return fc.kind;
  }
}

function model(tc: TraceClass): unknown {
  slotNames = new Map();
  return {
    uuid: tc.uuid,
    env: [...tc.env].map(([k, v]) => `${k}=${v}`).sort(),
    clocks: [...tc.clocks.values()].map((c) => `${c.name} ${c.frequency} ${c.offsetSeconds} ${c.offsetCycles} ${c.originIsUnixEpoch} ${c.description}`),
    slots: tc.slotCount,
    packetHeader: canon(tc.packetHeader),
    streams: [...tc.streamClasses.values()]
      .sort((a, b) => a.id - b.id)
      .map((sc) => ({
        id: sc.id,
        clock: sc.defaultClock?.name,
        packetContext: canon(sc.packetContext),
        eventHeader: canon(sc.eventHeader),
        commonContext: canon(sc.eventCommonContext),
        events: [...sc.eventClasses.values()]
          .sort((a, b) => a.id - b.id)
          .map((e) => ({ id: e.id, name: e.name, logLevel: e.logLevel, context: canon(e.specificContext), payload: canon(e.payload) })),
      })),
  };
}

const twins = (readdirSync(join(CORPUS, 'ctf2'), { recursive: true }) as string[])
  .filter((p) => (p === 'metadata' || p.endsWith('/metadata')) && !p.startsWith('fail/'))
  .filter((p) => existsSync(join(CORPUS, p)))
  .sort();

describe('CTF 2 twins of the CTF 1.8 corpus', () => {
  it('has twins to compare', () => assert.ok(twins.length >= 30, `${twins.length} twins`));
  for (const p of twins) {
    it(p, () => {
      const two = parseMetadata(readFileSync(join(CORPUS, 'ctf2', p))).tc;
      const one = parseMetadata(readFileSync(join(CORPUS, p))).tc;
      assert.equal(two.ctfVersion, 2);
      assert.equal(one.ctfVersion, 1);
      assert.deepEqual(model(two), model(one));
    });
  }
});

const RS = '\x1e';
const enc = new TextEncoder();

function ctf2(...fragments: object[]): TraceClass {
  return parseMetadata(enc.encode(fragments.map((f) => RS + JSON.stringify(f) + '\n').join(''))).tc;
}

function ctf2Error(fragments: object[], re: RegExp): void {
  assert.throws(
    () => parseMetadata(enc.encode(fragments.map((f) => RS + JSON.stringify(f)).join(''))),
    (e: unknown) => e instanceof LttError && e.code === 'CTF_METADATA' && re.test(e.message) && !e.message.includes('\n'),
  );
}

const u8 = { type: 'fixed-length-unsigned-integer', length: 8, 'byte-order': 'little-endian', alignment: 8 };
const u32be = { type: 'fixed-length-unsigned-integer', length: 32, 'byte-order': 'big-endian', alignment: 8 };
const PRE = { type: 'preamble', version: 2, uuid: [0, 81, 210, 14, 51, 137, 65, 87, 150, 147, 231, 213, 216, 86, 90, 160] };
const TRACE = { type: 'trace-class', environment: { hostname: 'h', vpid: 7 } };
const ID_HEADER = { type: 'structure', 'member-classes': [{ name: 'id', 'field-class': { ...u8, roles: ['event-record-class-id'] } }] };

function member(s: StructFieldClass, name: string): FieldClass {
  const m = s.members.find((x) => x.name === name);
  assert.ok(m, `member ${name}`);
  return m.fc;
}

describe('CTF 2 fragments', () => {
  it('reads preamble UUID, environment, clocks (normalised) and log levels', () => {
    const tc = ctf2(
      PRE,
      { type: 'clock-class', id: 'c', name: 'mono', frequency: 1000, 'offset-from-origin': { seconds: 5, cycles: 2500 }, origin: 'unix-epoch', description: 'd' },
      TRACE,
      { type: 'data-stream-class', 'default-clock-class-id': 'c', 'event-record-header-field-class': ID_HEADER },
      { type: 'event-record-class', id: 3, name: 'ev', attributes: { 'lttng.org,2009': { 'log-level': 'debug:line' } } },
      { type: 'event-record-class', id: 4, name: 'ev2', attributes: { 'babeltrace.org,2020': { 'log-level': 'warning', 'emf-uri': 'http://x' } } },
    );
    assert.equal(tc.uuid, '0051d20e-3389-4157-9693-e7d5d8565aa0');
    assert.deepEqual([...tc.env], [['hostname', 'h'], ['vpid', 7n]]);
    const c = tc.clocks.get('mono')!;
    assert.deepEqual([c.frequency, c.offsetSeconds, c.offsetCycles, c.originIsUnixEpoch, c.description], [1000, 7n, 500n, true, 'd']);
    const sc = tc.streamClasses.get(0)!;
    assert.equal(sc.defaultClock, c);
    assert.equal(sc.eventClasses.get(3)!.logLevel, 13);
    assert.equal(sc.eventClasses.get(4)!.logLevel, 4);
    assert.equal(sc.eventClasses.get(4)!.emfUri, 'http://x');
  });

  it('reads a packetized (CTF2-PMETA, version 2.0) JSON text sequence', () => {
    const body = enc.encode([PRE, TRACE, { type: 'data-stream-class' }, { type: 'event-record-class', name: 'pm' }].map((f) => RS + JSON.stringify(f)).join(''));
    const b = new Uint8Array(37 + body.length);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, 0x75d11d57, false);
    dv.setUint32(24, b.length * 8, false);
    dv.setUint32(28, b.length * 8, false);
    b[35] = 2;
    b[36] = 0;
    b.set(body, 37);
    const { tc } = parseMetadata(b);
    assert.equal(tc.ctfVersion, 2);
    assert.equal(tc.streamClasses.get(0)!.eventClasses.get(0)!.name, 'pm');
  });

  it('refuses traces without trace class or data stream class, unknown fragments and extensions', () => {
    ctf2Error([PRE], /without a trace class/);
    ctf2Error([PRE, TRACE], /without any data stream class/);
    ctf2Error([TRACE], /first fragment must be a preamble/);
    ctf2Error([{ type: 'preamble', version: 3 }, TRACE, { type: 'data-stream-class' }], /version 3/);
    ctf2Error([PRE, TRACE, { type: 'data-stream-class' }, { type: 'mystery' }], /unknown fragment type "mystery"/);
    ctf2Error([{ ...PRE, extensions: { 'x.org,2024': { y: 1 } } }, TRACE, { type: 'data-stream-class' }], /unsupported extension/);
    ctf2Error([PRE, TRACE, { type: 'data-stream-class' }, { type: 'event-record-class', 'data-stream-class-id': 9 }], /unknown data stream class 9/);
    ctf2Error([PRE, TRACE, { type: 'data-stream-class' }, { type: 'event-record-class', id: 1 }, { type: 'event-record-class', id: 2 }], /no `event-record-class-id` field/);
    ctf2Error([PRE, TRACE, { type: 'data-stream-class' }, { type: 'data-stream-class', id: 1 }], /no `data-stream-class-id` field/);
    assert.throws(() => parseMetadata(enc.encode(`${RS}{"type": "preamble", "version": 2}${RS}{oops`)), /fragment 2 is not valid JSON/);
  });

  it('turns roles into model roles and clock mappings', () => {
    const clockTs = { ...u32be, roles: ['default-clock-timestamp'] };
    const tc = ctf2(
      PRE,
      { type: 'clock-class', id: 'c', frequency: 1e9 },
      {
        ...TRACE,
        'packet-header-field-class': {
          type: 'structure',
          'member-classes': [
            { name: 'magic', 'field-class': { ...u32be, roles: ['packet-magic-number'] } },
            { name: 'uuid', 'field-class': { type: 'static-length-blob', length: 16, roles: ['metadata-stream-uuid'] } },
            { name: 'sid', 'field-class': { ...u8, roles: ['data-stream-class-id'] } },
          ],
        },
      },
      {
        type: 'data-stream-class',
        'default-clock-class-id': 'c',
        'packet-context-field-class': {
          type: 'structure',
          'member-classes': [
            { name: 'b', 'field-class': clockTs },
            { name: 'e', 'field-class': { ...u32be, roles: ['packet-end-default-clock-timestamp'] } },
            { name: 'cpu', 'field-class': u8 },
          ],
        },
        'event-record-header-field-class': { type: 'structure', 'member-classes': [{ name: 'id', 'field-class': { ...u8, roles: ['event-record-class-id'] } }, { name: 'ts', 'field-class': clockTs }] },
      },
    );
    const ph = tc.packetHeader!;
    assert.equal((member(ph, 'magic') as IntegerFieldClass).role, 'packet-magic');
    assert.equal((member(ph, 'sid') as IntegerFieldClass).role, 'stream-class-id');
    const sc = tc.streamClasses.get(0)!;
    const pc = sc.packetContext!;
    const b = member(pc, 'b') as IntegerFieldClass;
    const e = member(pc, 'e') as IntegerFieldClass;
    assert.deepEqual([b.role, b.mappedClock?.name, e.role, e.mappedClock], ['packet-begin-ts', 'c', 'packet-end-ts', undefined]);
    assert.deepEqual(pc.members.map((m) => m.fc.hidden), [true, true, false]);
    const ts = member(sc.eventHeader!, 'ts') as IntegerFieldClass;
    assert.deepEqual([ts.role, ts.mappedClock?.name], ['default-clock-timestamp', 'c']);
    assert.equal((member(sc.eventHeader!, 'id') as IntegerFieldClass).role, 'event-class-id');
    assert.equal(tc.byteOrder, 'be');
  });

  it('expands aliases, and resolves absolute and relative (null = parent) locations to slots', () => {
    const tc = ctf2(
      PRE,
      TRACE,
      { type: 'field-class-alias', name: 'byte', 'field-class': u8 },
      { type: 'data-stream-class' },
      {
        type: 'event-record-class',
        'specific-context-field-class': { type: 'structure', 'member-classes': [{ name: 'n', 'field-class': 'byte' }] },
        'payload-field-class': {
          type: 'structure',
          'member-classes': [
            { name: 'len', 'field-class': 'byte' },
            { name: 'sel', 'field-class': { ...u8, mappings: { A: [[0, 0]], B: [[1, 5]] } } },
            {
              name: 'inner',
              'field-class': {
                type: 'structure',
                'member-classes': [
                  { name: 'a', 'field-class': { type: 'dynamic-length-array', 'length-field-location': { path: [null, 'len'] }, 'element-field-class': 'byte' } },
                  { name: 's', 'field-class': { type: 'dynamic-length-string', 'length-field-location': { origin: 'event-record-specific-context', path: ['n'] } } },
                ],
              },
            },
            {
              name: 'v',
              'field-class': {
                type: 'variant',
                'selector-field-location': { origin: 'event-record-payload', path: ['sel'] },
                options: [
                  { name: 'A', 'selector-field-ranges': [[0, 0]], 'field-class': 'byte' },
                  { name: 'B', 'selector-field-ranges': [[1, 5]], 'field-class': { type: 'null-terminated-string' } },
                ],
              },
            },
            { name: 'flag', 'field-class': { type: 'fixed-length-boolean', length: 8, 'byte-order': 'little-endian' } },
            { name: 'o', 'field-class': { type: 'optional', 'selector-field-location': { path: ['flag'] }, 'field-class': 'byte' } },
          ],
        },
      },
    );
    const ec = tc.streamClasses.get(0)!.eventClasses.get(0)!;
    const p = ec.payload!;
    const len = member(p, 'len') as IntegerFieldClass;
    const sel = member(p, 'sel') as EnumFieldClass;
    const inner = member(p, 'inner') as StructFieldClass;
    const n = member(ec.specificContext!, 'n') as IntegerFieldClass;
    assert.equal(sel.kind, 'enum');
    assert.equal((member(inner, 'a') as SequenceFieldClass).lengthSlot, len.storeSlot);
    assert.equal((member(inner, 's') as StringFieldClass).lengthSlot, n.storeSlot);
    const v = member(p, 'v') as VariantFieldClass;
    assert.equal(v.tagSlot, sel.storeSlot);
    assert.deepEqual(v.options.map((o) => o.ranges), [[[0n, 0n]], [[1n, 5n]]]);
    const flag = member(p, 'flag');
    assert.equal((member(p, 'o') as OptionalFieldClass).selectorSlot, (flag as { storeSlot?: number }).storeSlot);
    assert.equal(tc.slotCount, 4);
    // Lengths and selectors stay visible.
    assert.deepEqual(p.members.map((m) => m.fc.hidden), [false, false, false, false, false, false]);
  });

  it('refuses bad field classes with a clear message', () => {
    const ev = (payload: object | string) => [PRE, TRACE, { type: 'data-stream-class' }, { type: 'event-record-class', 'payload-field-class': { type: 'structure', 'member-classes': [{ name: 'x', 'field-class': payload }] } }];
    ctf2Error(ev({ type: 'fixed-length-unsigned-integer', length: 65, 'byte-order': 'little-endian' }), /length 65/);
    ctf2Error(ev({ type: 'fixed-length-floating-point-number', length: 16, 'byte-order': 'little-endian' }), /floating point number length 16/);
    ctf2Error(ev({ type: 'no-such-type' }), /unknown field class type/);
    ctf2Error(ev('nope'), /unknown field class alias "nope"/);
    ctf2Error(ev({ type: 'dynamic-length-array', 'length-field-location': { path: ['zz'] }, 'element-field-class': u8 }), /cannot find the field "zz"/);
    ctf2Error(ev({ ...u8, roles: ['default-clock-timestamp'] }), /without a default clock/);
  });
});
