// The export's protobuf encoder against protobufjs's decoder: 64-bit values past 2^53 both ways, negative
// int64s, UTF-8 strings, doubles, nesting, and a nested message longer than three varint bytes can say.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { ProtobufWriter } from '../../src/export/protobuf-writer.js';

const root = protobuf.Root.fromJSON({
  nested: {
    Outer: { fields: { inner: { rule: 'repeated', type: 'Inner', id: 1 }, blob: { type: 'string', id: 2 } } },
    Inner: {
      fields: {
        u: { type: 'uint64', id: 1 },
        i: { type: 'int64', id: 2 },
        s: { type: 'string', id: 3 },
        d: { type: 'double', id: 4 },
        deeper: { type: 'Inner', id: 5 },
      },
    },
  },
});
const Outer = root.lookupType('Outer');

describe('ProtobufWriter', () => {
  it('writes what protobufjs reads back', () => {
    const w = new ProtobufWriter();
    const values: [bigint, bigint, string, number][] = [
      [0n, 0n, '', 0],
      [2n ** 53n + 1n, -1n, 'é✓\n"', 1.5],
      [2n ** 64n - 1n, -(2n ** 63n), 'x'.repeat(300), -2.25e-300],
      [1796546882986624139n, -2n, 'ascii', Number.MAX_VALUE],
    ];
    for (const [u, i, s, d] of values) {
      w.begin(1);
      w.uint64(1, u);
      w.int(2, i);
      w.string(3, s);
      w.double(4, d);
      w.begin(5);
      w.int(2, -7);
      w.end();
      w.end();
    }
    w.string(2, 'y'.repeat(3 << 20));
    const decoded = Outer.toObject(Outer.decode(w.drain()), { longs: String }) as {
      inner: { u: string; i: string; s?: string; d: number; deeper: { i: string } }[];
      blob: string;
    };
    assert.deepEqual(
      decoded.inner.map((x) => [BigInt(x.u ?? 0), BigInt(x.i ?? 0), x.s ?? '', x.d ?? 0]),
      values.map(([u, i, s, d]) => [u, i, s, d]),
    );
    assert.ok(decoded.inner.every((x) => x.deeper.i === '-7'));
    assert.equal(decoded.blob.length, 3 << 20);
    assert.equal(w.length, 0);
  });

  it('nests a message of more than 2^21 bytes (four length bytes)', () => {
    const w = new ProtobufWriter();
    w.begin(1);
    w.string(3, 'z'.repeat(5 << 20));
    w.end();
    const decoded = Outer.decode(w.drain()) as unknown as { inner: { s: string }[] };
    assert.equal(decoded.inner[0]!.s.length, 5 << 20);
  });

  it('refuses to drain inside a message and to end what was not begun', () => {
    const w = new ProtobufWriter();
    assert.throws(() => w.end(), /without begin/);
    w.begin(1);
    assert.throws(() => w.drain(), /inside a message/);
  });
});
