// The snapshot-mode memory ring both domains keep (src/ctf/writer/snapshot-ring-sink.ts): per stream the newest
// packets in as many slots as its ring buffer has sub-buffers, padded to their packet size (a sink takes packets
// not padded yet: ltt/ust's sub-buffers), kept after the stream closes (an exited thread, bounded), written as an
// ordinary trace with the packets still being filled standing in for the oldest, and no trace when nothing is held.

import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { packetIndexEntryOf } from '../../src/ctf/writer/index-file.js';
import type { StreamSinkInfo } from '../../src/ctf/writer/sink.js';
import { SnapshotRingSink } from '../../src/ctf/writer/snapshot-ring-sink.js';

const SLOT = 4096;

/** An LTTng packet's first `content` bytes (header + filler), stating a packet size of one page. */
function packet(seq: number, content = 100): Buffer {
  const p = Buffer.alloc(content, 0xab);
  p.writeUInt32LE(0xc1fc1fc1, 0);
  p.writeUInt32LE(1, 20);
  p.writeBigUInt64LE(7n, 24);
  p.writeBigUInt64LE(BigInt(1000 + seq), 32);
  p.writeBigUInt64LE(BigInt(1000 + seq), 40);
  p.writeBigUInt64LE(BigInt(content * 8), 48);
  p.writeBigUInt64LE(BigInt(SLOT * 8), 56);
  p.writeBigUInt64LE(BigInt(seq), 64);
  p.writeBigUInt64LE(0n, 72);
  return p;
}

function info(fileName: string, slots = 3): StreamSinkInfo {
  return { fileName, streamClassId: 1, streamInstanceId: 7, cpuId: 0, ring: { slots, slotSize: SLOT } };
}

test('snapshot ring: newest packets per stream, padded; open packets stand in for the oldest; written as a trace', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltt-ring-'));
  try {
    const ring = new SnapshotRingSink();
    ring.writeMetadata(Buffer.from('/* CTF 1.8 */\n'));
    const a = ring.openStream(info('a_1'));
    for (let seq = 0; seq < 5; seq++) {
      const p = packet(seq);
      a.writePacket(p, packetIndexEntryOf(p));
      p.fill(0xee); // borrowed: the producer reuses its buffer at once
    }
    const held = ring.held().streams[0]!;
    assert.deepEqual(held.packets.map((p) => p.index.packetSeqNum), [2, 3, 4], 'the 3 newest (3 slots)');
    for (const p of held.packets) {
      assert.equal(p.bytes.length, SLOT, 'padded to its packet size');
      assert.equal(p.bytes[99], 0xab);
      assert.ok(p.bytes.subarray(100).every((b) => b === 0), 'zero padding');
    }
    // A closed stream (a thread that exited) keeps its packets.
    await a.close();
    assert.equal(ring.held().streams[0]!.packets.length, 3);
    const open = Buffer.alloc(SLOT);
    packet(5).copy(open);
    const written = await ring.writeSnapshot(join(dir, 's1'), undefined, 0, new Map([[a, { bytes: open, index: packetIndexEntryOf(open) }]]));
    assert.deepEqual(written, { bytes: 3 * SLOT, packets: 3, streams: 1 });
    assert.equal(readFileSync(join(dir, 's1', 'metadata'), 'utf8'), '/* CTF 1.8 */\n');
    const data = readFileSync(join(dir, 's1', 'a_1'));
    assert.equal(data.length, 3 * SLOT);
    assert.deepEqual([0, 1, 2].map((k) => Number(data.readBigUInt64LE(k * SLOT + 64))), [3, 4, 5], 'the open packet took the oldest one\'s place');
    assert.ok(!existsSync(join(dir, 's1', 'index')), 'no index files (lttng-consumerd writes none for snapshots)');
    // The memory stays: a later snapshot overlaps; a size limit keeps each stream's newest packets that fit.
    assert.deepEqual(await ring.writeSnapshot(join(dir, 's2'), undefined, 2 * SLOT), { bytes: 2 * SLOT, packets: 2, streams: 1 });
    await assert.rejects(ring.writeSnapshot(join(dir, 's3'), undefined, SLOT - 1), /Invalid snapshot size/);
    assert.ok(!existsSync(join(dir, 's3')));
    // Nothing held: no trace at all.
    ring.reset();
    ring.openStream(info('b_1'));
    assert.deepEqual(await ring.writeSnapshot(join(dir, 's4'), undefined), { bytes: 0, packets: 0, streams: 0 });
    assert.ok(!existsSync(join(dir, 's4')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('snapshot ring: a discard-mode stream keeps its first packets once full (LTTng\'s discard ring nobody consumes)', () => {
  const ring = new SnapshotRingSink();
  const a = ring.openStream({ ...info('a_1'), ring: { slots: 3, slotSize: SLOT, discard: true } });
  for (let seq = 0; seq < 5; seq++) {
    const p = packet(seq);
    a.writePacket(p, packetIndexEntryOf(p));
  }
  assert.deepEqual(ring.held().streams[0]!.packets.map((p) => p.index.packetSeqNum), [0, 1, 2], 'the 3 first (3 slots)');
});

test('snapshot ring: closed streams are kept up to a bound (a thread pool\'s would add up forever), the oldest closed going first', async () => {
  const ring = new SnapshotRingSink();
  for (let k = 0; k < 70; k++) {
    const s = ring.openStream(info(`t_${k}`, 2));
    const p = packet(0);
    s.writePacket(p, packetIndexEntryOf(p));
    await s.close();
  }
  const live = ring.openStream(info('live', 2));
  const p = packet(0);
  live.writePacket(p, packetIndexEntryOf(p));
  const names = ring.held().streams.map((s) => s.info.fileName);
  assert.equal(names.length, 65);
  assert.deepEqual(names.slice(0, 2), ['t_6', 't_7']);
  assert.equal(names[64], 'live');
  assert.throws(() => ring.openStream({ ...info('x'), ring: undefined }), /needs at least one slot/);
  await assert.rejects(async () => {
    const s = ring.openStream(info('y'));
    await s.close();
    s.writePacket(p, packetIndexEntryOf(p));
  }, /closed snapshot stream/);
});
