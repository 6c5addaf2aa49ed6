// The consumer's thread table: what events tell it, and what it reads from /proc.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ThreadTable } from '../../src/consumer/thread-table.js';

test('events fill in threads; /proc completes them when asked; a thread gone by then keeps what events said', () => {
  const t = new ThreadTable();
  const gone = spawnSync('true').pid!;
  t.setComm(gone, 'short-lived');
  t.setPrio(gone, 3);
  // (Its thread group is not asserted: the kernel's saved_tgids, machine-wide, may hold one for a process that had
  // this pid before, which get() takes; test/kernel/kernel-session.test.ts checks the tgids of gone threads.)
  assert.deepEqual([t.get(gone).comm, t.get(gone).prio], ['short-lived', 3]);
  // A live thread the table did not hold: what /proc says once asked (its thread group, its current comm).
  t.setComm(process.pid, 'renamed');
  const live = t.get(process.pid);
  assert.equal(live.pid, process.pid);
  assert.notEqual(live.comm, 'renamed');
  // Held and fresh: events update it.
  t.setComm(process.pid, 'renamed');
  t.setPrio(process.pid, 7);
  assert.deepEqual([t.get(process.pid).comm, t.get(process.pid).prio], ['renamed', 7]);
});
