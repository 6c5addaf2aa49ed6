// A fused printer whose whole line has a known bound (fused-printer-codegen.ts maxText()) writes without room
// checks: it must never write more than BOUNDED_BUDGET bytes on the paths that do not make room themselves,
// whatever the values. An event of such fields is printed with its longest values into a writer left with
// exactly BOUNDED_BUDGET bytes of room (a write past the buffer's end throws or is lost; no field here takes a
// path that flushes), and the text is compared with the value printers'.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseMetadata } from '../../src/ctf/metadata.js';
import { DecodeState } from '../../src/ctf/decode/state.js';
import type { StructFieldClass } from '../../src/ctf/ir/trace-class.js';
import { BOUNDED_BUDGET, compileFusedEvent } from '../../src/view/fused-printer-codegen.js';
import { compileStruct, PLAIN_STYLE, type FieldStyle } from '../../src/view/field-printer-codegen.js';
import { CAPACITY, OutputWriter } from '../../src/view/output-writer.js';
import { scopeMemories } from '../../src/view/text-memory.js';
import { compileScope } from '../../src/ctf/decode/codegen.js';

const LABEL = 'L'.repeat(300);
const METADATA = `/* CTF 1.8 */
typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
trace { major = 1; minor = 8; byte_order = le; };
stream { id = 0; };
enum e_t : integer { size = 8; align = 8; signed = false; } { ${LABEL}A = 0 ... 10, ${LABEL}B = 5 ... 20, ${LABEL}C = 8 ... 30 };
event {
  name = "worst"; id = 0;
  fields := struct {
    integer { size = 64; align = 8; signed = false; } b0;
    integer { size = 64; align = 8; signed = true; } s0;
    integer { size = 64; align = 8; signed = false; base = 8; } o0;
    integer { size = 64; align = 8; signed = false; base = 16; } x0;
    floating_point { exp_dig = 11; mant_dig = 53; align = 8; } f0;
    enum e_t e0;
    string s;
    uint8_t n;
    integer { size = 8; align = 8; signed = false; encoding = UTF8; } seq[n];
    integer { size = 8; align = 8; signed = false; encoding = UTF8; } arr[40];
    struct { integer { size = 64; align = 8; signed = true; } b[3]; } inner;
  };
};
`;

/** The payload bytes of one event with the longest texts each field can print on the fused fast paths. */
function worstPayload(): Buffer {
  const parts: Buffer[] = [];
  const u64 = (v: bigint): Buffer => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    return b;
  };
  parts.push(u64(0xffffffffffffffffn), u64(0x8000000000000000n), u64(0xffffffffffffffffn), u64(0xffffffffffffffffn));
  const d = Buffer.alloc(8);
  d.writeDoubleLE(-1.2345678901234567e-300);
  parts.push(d, Buffer.from([9]));
  // 256 plain bytes: the longest text quotePlainCString() writes itself.
  parts.push(Buffer.from('s'.repeat(256) + '\0'));
  parts.push(Buffer.from([255]), Buffer.from('q'.repeat(255)));
  parts.push(Buffer.from('a'.repeat(40)));
  parts.push(u64(0x8000000000000000n), u64(0x8000000000000000n), u64(0x8000000000000000n));
  return Buffer.concat(parts);
}

for (const [label, style, names] of [
  ['plain', PLAIN_STYLE, true],
  ['coloured', { fieldName: '\x1b[36m', number: '\x1b[1m', string: '\x1b[1m', enumLabel: '\x1b[1m', unknown: '\x1b[1;91m', reset: '\x1b[0m', latin1: false }, true],
  ['no names', PLAIN_STYLE, false],
] as Array<[string, FieldStyle, boolean]>) {
  test(`a bounded fused printer stays within BOUNDED_BUDGET on its largest values (${label})`, () => {
    const { tc } = parseMetadata(Buffer.from(METADATA));
    const ec = tc.streamClasses.get(0)!.eventClasses.get(0)!;
    const payload = ec.payload as StructFieldClass;
    const fused = compileFusedEvent(new Uint8Array(0), false, [{ fc: undefined, visible: false, prefix: '', names }, { fc: undefined, visible: false, prefix: '', names }, { fc: payload, visible: true, prefix: '', names }], style);
    assert.ok(fused !== null);
    const max = fused.maxBytes!;
    assert.ok(max <= BOUNDED_BUDGET, `the event is bounded (no room checks): ${max}`);
    const bytes = worstPayload();
    const st = new DecodeState(Math.max(tc.slotCount, 1));
    st.setPacket(new Uint8Array(bytes));
    st.end = bytes.length * 8;
    const flushed: Buffer[] = [];
    const o = new OutputWriter((data) => void flushed.push(Buffer.from(data)), 'utf8');
    // Exactly the bound left: a bound too small writes past the end of the buffer.
    o.pos = CAPACITY - max;
    const start = o.pos;
    fused(o, st, { words: new Uint32Array(0), length: 0 }, scopeMemories([undefined, undefined, payload]));
    assert.equal(flushed.length, 0, `no flush: ${Buffer.concat(flushed).subarray(CAPACITY - max).toString('latin1')}`);
    assert.ok(o.pos <= CAPACITY, `wrote ${o.pos - start} bytes`);
    const got = Buffer.from(o.buf.subarray(start, o.pos)).toString('latin1');
    // The value printers, from the decoded values.
    const decode = compileScope(payload, { effects: true, values: true });
    const vs = new DecodeState(Math.max(tc.slotCount, 1));
    vs.setPacket(new Uint8Array(bytes));
    vs.end = bytes.length * 8;
    const value = decode(vs);
    const w = new OutputWriter(() => {}, 'utf8');
    compileStruct(payload, names, style, true)(w, value as never, scopeMemories([payload])[0]);
    const want = Buffer.from(w.buf.subarray(0, w.pos)).toString('latin1') + '\n';
    assert.equal(got, want);
    assert.ok(got.length > 1500, `a long line (${got.length} bytes)`);
  });
}
