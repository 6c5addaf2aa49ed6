// The text memories behind babeltrace2's empty text fields (src/view/text-memory.ts): a kept text is read back
// as it was even after detach() copied it out of the packet bytes and those bytes changed.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { keepBytes, keepString, recall, TextMemory } from '../../src/view/text-memory.js';
import { OutputWriter } from '../../src/view/output-writer.js';

function recalled(t: TextMemory, k: number): string {
  const o = OutputWriter.memory();
  recall(o, t, k);
  o.flush();
  return o.text();
}

test('an empty text field recalls the last kept text: none, bytes (also after detach()), then a string', () => {
  const t = new TextMemory(2);
  assert.equal(recalled(t, 0), '""');
  const packet = Buffer.from('xx\u00e9t\u00e9 "q"\0yy');
  keepBytes(t, 0, packet, 2, packet.indexOf(0));
  keepBytes(t, 1, packet, 0, 2);
  assert.equal(recalled(t, 0), '"\u00e9t\u00e9 \\"q\\""');
  t.detach();
  packet.fill(0x41);
  assert.equal(recalled(t, 0), '"\u00e9t\u00e9 \\"q\\""');
  assert.equal(recalled(t, 1), '"xx"');
  t.detach();
  assert.equal(recalled(t, 1), '"xx"');
  keepString(t, 1, 'tab\there');
  assert.equal(recalled(t, 1), '"tab\\there"');
});
