// What the daemon keeps of apps that exited in a snapshot session (src/sessiond/ust/exited-app-buffers.ts):
// packets arrive in pieces and are taken only whole and well-formed, under a plain stream file name; per user
// and channel they are bounded by what per-UID buffers would hold, the oldest going first, counted; apps pinned to
// the same CPUs share those CPUs' rings, thread rank by thread rank.

import { strict as assert } from 'node:assert';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { ExitedAppBuffers, parseCpuList } from '../../src/sessiond/ust/exited-app-buffers.js';
import { CTF_MAGIC, PH_CONTENT_SIZE, PH_MAGIC, PH_PACKET_SIZE, PH_SEQ_NUM, PH_SIZE, PH_STREAM_INSTANCE_ID, PH_TS_BEGIN, PH_TS_END } from '../../src/ust/ring-layout.js';

const SUBBUF = 4096;

/** A packet of `size` bytes (content `content`) that began at `ts`, of thread `instance`'s ring. */
function packet(ts: number, size = SUBBUF, content = size, instance = 0, seq = 0): Buffer {
  const p = Buffer.alloc(size);
  p.writeBigUInt64LE(BigInt(ts), PH_TS_END);
  p.writeBigUInt64LE(BigInt(seq), PH_SEQ_NUM);
  p.writeBigUInt64LE(BigInt(instance), PH_STREAM_INSTANCE_ID);
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
  const fits = 2 * availableParallelism();
  // User 1000's first app, then a second one with newer packets; user 1001 has its own bound.
  b.begin('s#1:c', 'c', 1000, '', '');
  for (let k = 0; k < fits; k++) b.addPiece('s#1:c', 'c_0', packet(100 + k), true);
  b.begin('s#2:c', 'c', 1000, '', '');
  for (let k = 0; k < 3; k++) b.addPiece('s#2:c', 'c_0', packet(200 + k), true);
  b.begin('s#3:c', 'c', 1001, '', '');
  for (let k = 0; k < fits; k++) b.addPiece('s#3:c', 'c_0', packet(k), true);
  const tsOf = (key: string) => b.content([key])!.streams[0]!.packets.map((p) => Number(p.index.timestampBegin));
  assert.deepEqual(tsOf('s#1:c'), Array.from({ length: fits - 3 }, (_, k) => 103 + k), "the first app's 3 oldest went");
  assert.deepEqual(tsOf('s#2:c'), [200, 201, 202]);
  assert.equal(tsOf('s#3:c').length, fits, "another user's app is not pushed out");
  assert.equal(b.dropped('c'), 3);
});

test('exited apps: a discard-mode channel keeps the oldest packets, the new ones that do not fit go, counted', () => {
  const b = new ExitedAppBuffers(() => ({ subbufSize: SUBBUF, numSubbuf: 2, overwrite: false }));
  const fits = 2 * availableParallelism();
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
  const fits = 2 * availableParallelism();
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

test('exited apps pinned to one CPU share its ring per thread rank (a later app pushes out an earlier one); other CPUs and ranks have their own', () => {
  // LTTng's snapshots/test_ust_fast "small overwrite buffers": two runs of the test app pinned to one CPU, 2
  // sub-buffers: the second snapshot's first event is the second app's. Per-UID, each app writes its own stream
  // files (CHANNEL_STREAMID, its range of stream ids); the main threads' rings (instance 0) stand for the CPU's.
  const b = new ExitedAppBuffers(() => ({ subbufSize: SUBBUF, numSubbuf: 2 }));
  b.begin('s#1:c', 'c', 1000, '', '', [1]);
  for (let k = 0; k < 2; k++) b.addPiece('s#1:c', 'c_0', packet(100 + k), true);
  b.addPiece('s#1:c', 'c_1', packet(150, SUBBUF, SUBBUF, 1), true);
  assert.throws(() => b.addPiece('s#1:c', 'c_1', packet(151), true), /stream instances 1 and 0/);
  b.begin('s#0:c', 'c', 1000, '', '', [0]);
  for (let k = 0; k < 2; k++) b.addPiece('s#0:c', 'c_196608', packet(50 + k), true);
  b.begin('s#2:c', 'c', 1000, '', '', [1]);
  for (let k = 0; k < 2; k++) b.addPiece('s#2:c', 'c_65536', packet(200 + k), true);
  const tsOf = (key: string, stream: string) => b.content([key])?.streams.find((s) => s.info.fileName === stream)?.packets.map((p) => Number(p.index.timestampBegin)) ?? [];
  assert.deepEqual(tsOf('s#1:c', 'c_0'), [], "the first app's main thread's packets went");
  assert.deepEqual(tsOf('s#1:c', 'c_1'), [150], 'another thread rank is a ring of its own');
  assert.deepEqual(tsOf('s#0:c', 'c_196608'), [50, 51], 'an app on another CPU is not pushed out, older as it is');
  assert.deepEqual(tsOf('s#2:c', 'c_65536'), [200, 201]);
  assert.equal(b.dropped('c'), 2);
  b.drop('s#2:c');
  b.begin('s#3:c', 'c', 1000, '', '', [1]);
  for (let k = 0; k < 2; k++) b.addPiece('s#3:c', 'c_131072', packet(300 + k), true);
  assert.equal(b.dropped('c'), 2, 'the dropped run gave its room back');
  // An app allowed on two CPUs: two rings' room.
  b.begin('s#4:c', 'c', 1000, '', '', [0, 1]);
  for (let k = 0; k < 4; k++) b.addPiece('s#4:c', 'c_262144', packet(400 + k), true);
  assert.equal(tsOf('s#4:c', 'c_262144').length, 4);
  assert.equal(b.dropped('c'), 2);
});

test('Cpus_allowed_list parsing', () => {
  assert.deepEqual(parseCpuList('0'), [0]);
  assert.deepEqual(parseCpuList('0-2,5'), [0, 1, 2, 5]);
  for (const bad of ['', '2-1', 'a', '0,,1', '0-99999999']) assert.equal(parseCpuList(bad), undefined, bad);
});

test('exited apps: an app that started after another\'s packets and wrote a ring\'s worth since overwrote them, as the shared ring does', () => {
  // The test app run twice, unpinned: the second run's 10000 events went through the user's rings after the
  // first run's; its own ring kept its last 2 packets (sequence numbers 500 and 501: 500 before were overwritten).
  const b = new ExitedAppBuffers(() => ({ subbufSize: SUBBUF, numSubbuf: 2 }));
  b.begin('s#1:c', 'c', 1000, '', '', [0, 1], 10n);
  for (let k = 0; k < 2; k++) b.addPiece('s#1:c', 'c_0', packet(100 + k, SUBBUF, SUBBUF, 0, 300 + k), true);
  // A run that began before those packets ended (concurrent): only its packets after them count.
  b.begin('s#0:c', 'c', 1000, '', '', [0, 1], 50n);
  b.addPiece('s#0:c', 'c_65536', packet(150, SUBBUF, SUBBUF, 0, 900), true);
  const tsOf = (key: string) => b.content([key])?.streams[0]?.packets.map((p) => Number(p.index.timestampBegin)) ?? [];
  assert.deepEqual(tsOf('s#1:c'), [100, 101]);
  b.begin('s#2:c', 'c', 1000, '', '', [0, 1], 500n);
  for (let k = 0; k < 2; k++) b.addPiece('s#2:c', 'c_131072', packet(600 + k, SUBBUF, SUBBUF, 0, 500 + k), true);
  assert.deepEqual(tsOf('s#1:c'), [], "the first run's packets were overwritten");
  assert.deepEqual(tsOf('s#0:c'), [], 'so were the concurrent run\'s');
  assert.deepEqual(tsOf('s#2:c'), [600, 601]);
  assert.equal(b.dropped('c'), 3);
  // Without run start times nothing is known of what came after: only the bound applies.
  const u = new ExitedAppBuffers(() => ({ subbufSize: SUBBUF, numSubbuf: 2 }));
  u.begin('s#1:c', 'c', 1000, '', '', [0, 1]);
  u.addPiece('s#1:c', 'c_0', packet(100), true);
  u.begin('s#2:c', 'c', 1000, '', '', [0, 1]);
  u.addPiece('s#2:c', 'c_65536', packet(600, SUBBUF, SUBBUF, 0, 500), true);
  assert.equal(u.dropped('c'), 0);
});
