// The kernel consumer's page staging (src/consumer/page-staging.ts): its size per CPU stays within the channel's
// budget whatever the CPU count and ring size, and a slot follows its HEAD/TAIL count across the int32 wrap
// (after 2^31 pages, a day of a busy CPU), where a remainder by a count that is not a power of two would jump.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { createStaging, slotOf, STAGED_RINGS, STAGING_BUDGET_BYTES, stagingSlots } from '../../src/consumer/page-staging.js';

test('page staging: 8 rings per CPU within the budget, a power of two', () => {
  assert.equal(stagingSlots(2, 4096, 1024), STAGED_RINGS * 1024, 'the default channel on 2 CPUs: 8 rings');
  for (const [cpus, pages] of [[1, 768], [2, 1024], [64, 1024], [256, 1024], [2, 65536], [4096, 16]] as const) {
    const slots = stagingSlots(cpus, 4096, pages);
    assert.equal(slots & (slots - 1), 0, `${cpus} CPUs, ${pages} pages: ${slots} is a power of two`);
    assert.ok(slots <= STAGED_RINGS * pages, `${cpus} CPUs, ${pages} pages: at most 8 rings`);
    assert.ok(slots === 2 || cpus * slots * 4096 <= STAGING_BUDGET_BYTES, `${cpus} CPUs, ${pages} pages: ${slots} slots within the budget`);
  }
  const st = createStaging(64, 4096, 16, 1024, 200);
  assert.equal(st.rings.reduce((n, r) => n + r.byteLength, 0) <= STAGING_BUDGET_BYTES, true);
});

test('page staging: consecutive counts are consecutive slots across the int32 wrap', () => {
  const slots = stagingSlots(2, 4096, 3 * 256); // 3 sub-buffers: 6144 pages asked, 4096 slots
  let count = (2 ** 31 - 5) | 0;
  let prev = slotOf(count, slots);
  for (let k = 0; k < 10; k++) {
    count = (count + 1) | 0;
    const at = slotOf(count, slots);
    assert.ok(at >= 0 && at < slots, `slot ${at} of count ${count}`);
    assert.equal(at, (prev + 1) % slots, `count ${count}`);
    prev = at;
  }
});
