// The frame codec in isolation: frames split anywhere or packed together come out whole and in order; a
// lying length is rejected at once without buffering; a bad JSON body keeps the stream in sync.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { encodeFrame, FrameDecoder } from '../../src/control/framing.js';

test('frames survive any chunking and packing', () => {
  const bodies = [{ a: 1 }, 'text with ünïcödé', [1, 2, 3], { nested: { deep: true } }, null];
  const stream = Buffer.concat(bodies.map((b) => encodeFrame(b)));
  for (const chunkSize of [1, 2, 3, 5, 7, 64, stream.length]) {
    const decoder = new FrameDecoder(1024);
    const out: unknown[] = [];
    for (let i = 0; i < stream.length; i += chunkSize) {
      for (const frame of decoder.push(stream.subarray(i, i + chunkSize))) {
        assert.ok(frame.ok);
        out.push(frame.body);
      }
    }
    assert.deepEqual(out, bodies, `chunk size ${chunkSize}`);
  }
});

test('an oversized length is fatal immediately; bad JSON is not', () => {
  const decoder = new FrameDecoder(16);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(17, 0);
  const [tooBig] = decoder.push(header);
  assert.ok(tooBig && !tooBig.ok && tooBig.fatal && tooBig.error.code === 'FRAME_TOO_LARGE');
  assert.deepEqual(decoder.push(encodeFrame({ x: 1 })), [], 'a broken stream stays broken');

  const lenient = new FrameDecoder(64);
  const junk = Buffer.from('{nope');
  const framed = Buffer.concat([Buffer.from([0, 0, 0, junk.length]), junk, encodeFrame({ after: true })]);
  const [bad, good] = lenient.push(framed);
  assert.ok(bad && !bad.ok && !bad.fatal && bad.error.code === 'INVALID_PROTOCOL');
  assert.ok(good && good.ok);
  assert.deepEqual(good.body, { after: true });
});
