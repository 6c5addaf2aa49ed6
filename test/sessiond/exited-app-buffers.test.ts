// What the daemon keeps of apps that exited in a snapshot session (src/sessiond/ust/exited-app-buffers.ts):
// packets arrive in pieces and are taken only whole and well-formed, under a plain stream file name; per user,
// channel and stream they are bounded by what one per-UID ring holds (numSubbuf sub-buffers), the oldest going
// first, counted.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ExitedAppBuffers } from '../../src/sessiond/ust/exited-app-buffers.js';
import { CTF_MAGIC, PH_CONTENT_SIZE, PH_MAGIC, PH_PACKET_SIZE, PH_SIZE, PH_TS_BEGIN } from '../../src/ust/ring-layout.js';

const SUBBUF = 4096;

/** A packet of `size` bytes (content `content`) that began at `ts`. */
function packet(ts: number, size = SUBBUF, content = size): Buffer {
  const p = Buffer.alloc(size);
  p.writeUInt32LE(CTF_MAGIC, PH_MAGIC);
  p.writeBigUInt64LE(BigInt(size * 8), PH_PACKET_SIZE);
  p.writeBigUInt64LE(BigInt(content * 8), PH_CONTENT_SIZE);
  p.writeBigUInt64LE(BigInt(ts), PH_TS_BEGIN);
  return p;
}

test('exited apps: whole packets from pieces; names, sizes and headers checked', () => {
  const b = new ExitedAppBuffers(() => ({ subbufSize: SUBBUF, numSubbuf: 2 }));
  b.begin('s#1:c', 'c', 1000, 'PREAMBLE', 'DECL');
  assert.throws(() => b.begin('s#1:c', 'c', 1000, '', ''), /handed over twice/);
  const p = packet(1);
  b.addPiece('s#1:c', 'c_0', p.subarray(0, 1000), false);
  b.addPiece('s#1:c', 'c_0', p.subarray(1000), true);
  const held = b.content(['s#1:c'])!;
  assert.deepEqual(held.metadata.map((m) => Buffer.from(m).toString()), ['PREAMBLE', 'DECL']);
  assert.deepEqual(held.streams.map((s) => [s.info.fileName, s.packets.map((x) => x.bytes)]), [['c_0', [p]]]);
  for (const name of ['../c_0', 'a/b', '.hidden', 'metadata', '']) {
    assert.throws(() => b.addPiece('s#1:c', name, packet(2), true), /invalid stream file name/, name);
  }
  assert.throws(() => b.addPiece('s#1:c', 'c_0', packet(2, 2 * SUBBUF), true), /larger than the sub-buffer size/);
  assert.throws(() => b.addPiece('s#1:c', 'c_0', packet(2, SUBBUF, SUBBUF + 8), true), /not a whole packet/);
  assert.throws(() => b.addPiece('s#1:c', 'c_0', Buffer.alloc(PH_SIZE - 1), true), /not a whole packet/);
  assert.throws(() => b.addPiece('s#2:c', 'c_0', packet(2), true), /not handed over/);
  b.drop('s#1:c');
  assert.equal(b.content(['s#1:c']), undefined);
});

test('exited apps: per user and channel, what per-UID buffers would hold; the oldest packets go, counted', () => {
  const b = new ExitedAppBuffers(() => ({ subbufSize: SUBBUF, numSubbuf: 2 }));
  const fits = 2;
  // User 1000's first app, then a second one with newer packets; user 1001 has its own bound.
  b.begin('s#1:c', 'c', 1000, '', '');
  for (let k = 0; k < fits; k++) b.addPiece('s#1:c', 'c_0', packet(100 + k), true);
  b.begin('s#2:c', 'c', 1000, '', '');
  b.addPiece('s#2:c', 'c_0', packet(200), true);
  b.begin('s#3:c', 'c', 1001, '', '');
  for (let k = 0; k < fits; k++) b.addPiece('s#3:c', 'c_0', packet(k), true);
  const tsOf = (key: string) => b.content([key])!.streams[0]!.packets.map((p) => Number(p.index.timestampBegin));
  assert.deepEqual(tsOf('s#1:c'), [101], "the first app's oldest went");
  assert.deepEqual(tsOf('s#2:c'), [200]);
  assert.equal(tsOf('s#3:c').length, fits, "another user's app is not pushed out");
  assert.equal(b.dropped('c'), 1);
});

test('exited apps: a discard-mode channel keeps the oldest packets, the new ones that do not fit go, counted', () => {
  const b = new ExitedAppBuffers(() => ({ subbufSize: SUBBUF, numSubbuf: 2, overwrite: false }));
  const fits = 2;
  b.begin('s#1:c', 'c', 1000, '', '');
  for (let k = 0; k < fits; k++) b.addPiece('s#1:c', 'c_0', packet(100 + k), true);
  b.begin('s#2:c', 'c', 1000, '', '');
  for (let k = 0; k < 3; k++) b.addPiece('s#2:c', 'c_0', packet(200 + k), true);
  const tsOf = (key: string) => b.content([key])?.streams[0]?.packets.map((p) => Number(p.index.timestampBegin)) ?? [];
  assert.deepEqual(tsOf('s#1:c'), Array.from({ length: fits }, (_, k) => 100 + k), "the first app's packets all stay");
  assert.deepEqual(tsOf('s#2:c'), [], "the second app's did not fit");
  assert.equal(b.dropped('c'), 3);
});

test('exited apps: a dropped run gives its room back; packets pushed out count no more against the bound', () => {
  const b = new ExitedAppBuffers(() => ({ subbufSize: SUBBUF, numSubbuf: 2, overwrite: false }));
  const fits = 2;
  b.begin('s#1:c', 'c', 1000, '', '');
  for (let k = 0; k < fits; k++) b.addPiece('s#1:c', 'c_0', packet(100 + k), true);
  b.drop('s#1:c');
  b.begin('s#2:c', 'c', 1000, '', '');
  for (let k = 0; k < fits; k++) b.addPiece('s#2:c', 'c_0', packet(200 + k), true);
  const tsOf = (key: string) => b.content([key])?.streams[0]?.packets.length ?? 0;
  assert.equal(tsOf('s#2:c'), fits, 'the dropped run no longer fills the user buffers');
  assert.equal(b.dropped('c'), 0);

  // Overwrite mode: after the oldest packets went, the bound counts only what stays.
  const o = new ExitedAppBuffers(() => ({ subbufSize: SUBBUF, numSubbuf: 2 }));
  o.begin('s#1:c', 'c', 1000, '', '');
  for (let k = 0; k < 3 * fits; k++) o.addPiece('s#1:c', 'c_0', packet(k), true);
  assert.equal(o.dropped('c'), 2 * fits);
  o.drop('s#1:c');
  o.begin('s#2:c', 'c', 1000, '', '');
  for (let k = 0; k < fits; k++) o.addPiece('s#2:c', 'c_0', packet(1000 + k), true);
  assert.equal(o.content(['s#2:c'])!.streams[0]!.packets.length, fits);
  assert.equal(o.dropped('c'), 2 * fits, 'nothing more pushed out');
});

test('exited apps: the apps of a user share each per-UID stream\'s ring (a later app pushes out an earlier one), streams have their own', () => {
  // LTTng's snapshots/test_ust_fast "small overwrite buffers": two runs of the test app on one CPU, 2 sub-buffers;
  // the second snapshot's first event is the second app's.
  const b = new ExitedAppBuffers(() => ({ subbufSize: SUBBUF, numSubbuf: 2 }));
  b.begin('s#1:c', 'c', 1000, '', '');
  for (let k = 0; k < 2; k++) b.addPiece('s#1:c', 'c_0', packet(100 + k), true);
  b.addPiece('s#1:c', 'c_1', packet(150), true);
  b.begin('s#2:c', 'c', 1000, '', '');
  for (let k = 0; k < 2; k++) b.addPiece('s#2:c', 'c_0', packet(200 + k), true);
  const tsOf = (key: string, stream: string) => b.content([key])?.streams.find((s) => s.info.fileName === stream)?.packets.map((p) => Number(p.index.timestampBegin)) ?? [];
  assert.deepEqual(tsOf('s#1:c', 'c_0'), [], "the first app's packets of c_0 went");
  assert.deepEqual(tsOf('s#1:c', 'c_1'), [150], 'c_1 is a ring of its own');
  assert.deepEqual(tsOf('s#2:c', 'c_0'), [200, 201]);
  assert.equal(b.dropped('c'), 2);
  b.drop('s#2:c');
  b.begin('s#3:c', 'c', 1000, '', '');
  for (let k = 0; k < 2; k++) b.addPiece('s#3:c', 'c_0', packet(300 + k), true);
  assert.equal(b.dropped('c'), 2, 'the dropped run gave its room in c_0 back');
});
