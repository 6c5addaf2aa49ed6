// The consumer's thread table: what events tell it, and what it reads from /proc.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ThreadTable } from '../../src/consumer/thread-table.js';

test('events update only the threads the table holds: no /proc read for a switch nobody asked about', () => {
  const t = new ThreadTable();
  t.setComm(process.pid, 'renamed');
  t.setPrio(process.pid, 7);
  assert.equal(t.has(process.pid), false, 'an unknown thread stays unknown');
  const read = t.get(process.pid);
  assert.equal(read.pid, process.pid, 'read from /proc when asked');
  assert.notEqual(read.comm, 'renamed');
  t.setComm(process.pid, 'renamed');
  t.setPrio(process.pid, 7);
  assert.equal(t.get(process.pid).comm, 'renamed');
  assert.equal(t.get(process.pid).prio, 7);
});
