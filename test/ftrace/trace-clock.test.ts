// The kernel trace clock: offset = realtime - monotonic, measured on millisecond edges of Date.now().
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { measureMonotonicOffset, monotonicClockDef } from '../../src/ftrace/trace-clock.js';

test('offset measurements agree within 100 us and match Date.now() within 2 ms', () => {
  const a = measureMonotonicOffset();
  const b = measureMonotonicOffset();
  const diff = a > b ? a - b : b - a;
  assert.ok(diff < 100_000n, `two measurements differ by ${diff} ns`);
  const coarse = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  const d2 = a > coarse ? a - coarse : coarse - a;
  assert.ok(d2 < 2_000_000n, `offset vs Date.now(): ${d2} ns`);
});

test('clock definition: LTTng\'s monotonic clock with the boot id', () => {
  const c = monotonicClockDef();
  assert.equal(c.name, 'monotonic');
  assert.equal(c.frequency, 1_000_000_000);
  assert.equal(c.uuid, fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
  assert.equal(c.offsetSeconds, 0n);
});
