// Every trace of the babeltrace corpus: succeed/ traces decode exactly the events babeltrace2 2.0.4 prints
// (one line each in expected/<name>.txt) with every field value decodable; fail/ traces end with an
// LttError after the events babeltrace2 printed before failing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isLttError } from '../../src/errors.js';
import { CORPUS, lines, run } from '../graph/corpus-helpers.js';

const succeed = readdirSync(join(CORPUS, 'succeed')).sort();

for (const name of succeed) {
  test(`succeed/${name}: same event count as babeltrace2`, async () => {
    const expected = lines(`expected/${name}.txt`).length;
    const { messages, error } = await run([join(CORPUS, 'succeed', name)]);
    assert.equal(error, undefined, `unexpected error: ${(error as Error | undefined)?.message}`);
    let events = 0;
    for (const m of messages) {
      if (m.type !== 'event') continue;
      events++;
      // Decoding the values must work for every event the fast pass accepted.
      void m.commonContext;
      void m.payload;
    }
    assert.equal(events, expected);
  });
}

const failing = [
  'fail1',
  'fail2',
  'incomplete-packet-header',
  'integer-range',
  'invalid-packet-size',
  'invalid-sequence-length-field-class',
  'invalid-variant-selector-field-class',
  'lttng-modules-2.0-pre1',
  'metadata-syntax-error',
  'packet-based-metadata',
  'smalltrace',
  'valid-events-then-invalid-events',
];

for (const name of failing) {
  test(`fail/${name}: LttError after the events babeltrace2 printed`, async () => {
    const expected = lines(`expected/fail/${name}.txt`).length;
    const { messages, error } = await run([join(CORPUS, 'fail', name)]);
    assert.ok(isLttError(error), `expected an LttError, got ${String(error)}`);
    assert.ok(!(error as Error).message.includes('\n'), 'error message must be one line');
    assert.equal(messages.filter((m) => m.type === 'event').length, expected);
  });
}

test('decoding error names the file and the problem', async () => {
  const { error } = await run([join(CORPUS, 'fail', 'valid-events-then-invalid-events')]);
  assert.ok(isLttError(error));
  assert.equal(error.code, 'CTF_DECODE');
  assert.match(error.message, /valid-events-then-invalid-events\/\S+: packet at offset \d+: no event class with ID 255/);
});

test('packet size past the end of the file is a one-line CTF_DECODE error', async () => {
  const { error } = await run([join(CORPUS, 'fail', 'invalid-packet-size', 'trace')]);
  assert.ok(isLttError(error));
  assert.equal(error.code, 'CTF_DECODE');
  assert.match(error.message, /goes past the end of the file/);
});

test('a path without any trace is a one-line CTF_NO_TRACE error', async () => {
  const { error } = await run([join(CORPUS, 'expected')]);
  assert.ok(isLttError(error));
  assert.equal(error.code, 'CTF_NO_TRACE');
  const missing = await run([join(CORPUS, 'does-not-exist')]);
  assert.ok(isLttError(missing.error));
  assert.equal(missing.error.code, 'CTF_NO_TRACE');
});
