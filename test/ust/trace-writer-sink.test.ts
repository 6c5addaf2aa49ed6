// ltt/ust's trace writer (src/ust/trace-writer.ts) writes into whatever TraceSink its output was built with, as
// the kernel consumer does: here a sink of the test's own, standing for one more kind of output (a relay). It gets
// the metadata before any packet that needs it, each stream's info (name, tracefile size/count, ring geometry),
// and each sub-buffer borrowed from the ring's shared memory (no copy) with the index entry its header gives.

import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { BroadcastChannel } from 'node:worker_threads';
import { packetIndexEntryOf } from '../../src/ctf/writer/index-file.js';
import type { PacketIndexEntry, StreamSink, StreamSinkInfo, TraceSink } from '../../src/ctf/writer/sink.js';
import { CHANNEL_NAME } from '../../src/ust/channel-name.js';
import { int32 } from '../../src/ust/fields.js';
import { activate, deactivate, declareEvent, getChannel, type ChannelMessage } from '../../src/ust/tracer.js';
import { SessionWriter } from '../../src/ust/trace-writer.js';

interface Seen {
  readonly info: StreamSinkInfo;
  readonly packets: Array<{ copy: Buffer; index: PacketIndexEntry; shared: boolean }>;
  closed: boolean;
}

class RecordingSink implements TraceSink {
  readonly log: string[] = [];
  metadata = '';
  readonly streams: Seen[] = [];

  writeMetadata(packets: Uint8Array, text: string): void {
    assert.equal(Buffer.from(packets).toString(), text, 'ltt/ust metadata is plain TSDL text');
    this.metadata += text;
    this.log.push('metadata');
  }

  openStream(info: StreamSinkInfo): StreamSink {
    const seen: Seen = { info, packets: [], closed: false };
    this.streams.push(seen);
    const log = this.log;
    return {
      writePacket(packet: Uint8Array, index: PacketIndexEntry): void {
        log.push('packet');
        // Borrowed: a view of the ring's sub-buffer itself, holding at least the content, at most the packet.
        seen.packets.push({ copy: Buffer.from(packet), index, shared: packet.buffer instanceof SharedArrayBuffer });
      },
      close: async () => {
        seen.closed = true;
      },
    };
  }

  async close(): Promise<void> {}
}

test('ltt/ust writes into any TraceSink: metadata first, borrowed sub-buffers with their index entries, stream info', async () => {
  const sink = new RecordingSink();
  const sessionId = randomUUID();
  const writer = new SessionWriter(sink, sessionId, 5, { tracefileSize: 8192, tracefileCount: 2 });
  getChannel();
  const channel = new BroadcastChannel(CHANNEL_NAME);
  channel.onmessage = (e: unknown) => writer.onMessage((e as { data: ChannelMessage }).data);
  try {
    const tick = declareEvent('sinktest:tick', [int32('i')], 13);
    activate({ sessionId, uuid: randomUUID(), channel: 'relayed', subbufSize: 4096, numSubbuf: 16, mode: 'discard', blockingTimeoutMs: 0, contexts: [], rules: [{ pattern: 'sinktest:*' }] });
    const n = 3000;
    assert.ok(tick.enabled);
    for (let i = 0; i < n; i++) (tick.emit as (i: number) => void)(i);
    deactivate(sessionId);
    // The ring announcement travels on the BroadcastChannel; the writer drains once its thread exited.
    for (let k = 0; k < 400 && !writer.allProducersExited(); k++) await new Promise((r) => setTimeout(r, 5));
    for (let k = 0; k < 400 && sink.streams[0]?.closed !== true; k++) await new Promise((r) => setTimeout(r, 5));
    await writer.finish();

    assert.equal(sink.streams.length, 1);
    const [s] = sink.streams;
    assert.match(s!.info.fileName, /^relayed_\d+$/);
    assert.deepEqual({ ...s!.info, fileName: '' }, {
      fileName: '',
      streamClassId: s!.info.streamInstanceId,
      streamInstanceId: s!.info.streamInstanceId,
      cpuId: s!.info.streamInstanceId,
      tracefileSize: 8192,
      tracefileCount: 2,
      ring: { slots: 16, slotSize: 4096, discard: true },
    });
    assert.ok(s!.closed, 'the stream is closed once its thread is gone');
    assert.equal(sink.log[0], 'metadata', 'declarations go before the first packet');
    assert.match(sink.metadata, /name = "sinktest:tick"/);
    assert.ok(s!.packets.length >= 2, `${s!.packets.length} packets`);
    s!.packets.forEach((p, k) => {
      assert.ok(p.shared, `packet ${k} is borrowed from the ring's shared memory`);
      assert.equal(p.index.packetSeqNum, k);
      assert.equal(p.copy.length * 8, p.index.contentSizeBits, 'the content, not padded: the sink pads');
      assert.equal(p.index.packetSizeBits % (4096 * 8), 0, 'page-aligned packet size');
      assert.deepEqual(packetIndexEntryOf(p.copy), p.index);
    });
    const st = writer.stats();
    assert.equal(st.recorded, n);
    assert.equal(st.discarded, 0);
    assert.equal(st.bytes, s!.packets.reduce((a, p) => a + p.index.packetSizeBits / 8, 0));
  } finally {
    channel.close();
  }
});

/** A sink whose streams take packets only while `room` holds (staging full behind a slow disk, as file-sink.ts's). */
class GatedSink extends RecordingSink {
  room = false;
  private readonly waiters: Array<() => void> = [];

  override openStream(info: StreamSinkInfo): StreamSink {
    const s = super.openStream(info);
    return { ...s, hasRoom: () => this.room, whenRoom: (cb: () => void) => void this.waiters.push(cb) };
  }

  open(): void {
    this.room = true;
    for (const cb of this.waiters.splice(0)) cb();
  }
}

test('a rotation or clear closing its chunk while the stream has no room waits for room: no packet before the cut goes to the next chunk', async () => {
  const first = new GatedSink();
  const next = new RecordingSink();
  const sessionId = randomUUID();
  const writer = new SessionWriter(first, sessionId, 5);
  getChannel();
  const channel = new BroadcastChannel(CHANNEL_NAME);
  channel.onmessage = (e: unknown) => writer.onMessage((e as { data: ChannelMessage }).data);
  try {
    const tick = declareEvent('gatetest:tick', [int32('i')], 13);
    activate({ sessionId, uuid: randomUUID(), channel: 'gated', subbufSize: 4096, numSubbuf: 16, mode: 'discard', blockingTimeoutMs: 0, contexts: [], rules: [{ pattern: 'gatetest:*' }] });
    assert.ok(tick.enabled);
    // Several sub-buffers' worth, closed in the ring; the stream has no room for them.
    for (let i = 0; i < 1500; i++) (tick.emit as (i: number) => void)(i);
    for (let k = 0; k < 400 && first.streams.length === 0; k++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(first.streams[0]?.packets.length, 0, 'nothing taken without room');
    writer.cut();
    const closed = writer.closeChunk();
    // The disk catches up later.
    setTimeout(() => first.open(), 100);
    await closed;
    writer.openChunk(next);
    deactivate(sessionId);
    for (let k = 0; k < 400 && !writer.allProducersExited(); k++) await new Promise((r) => setTimeout(r, 5));
    await writer.finish();
    const before = first.streams[0]!.packets.map((p) => p.index.packetSeqNum);
    const after = next.streams.flatMap((s) => s.packets.map((p) => p.index.packetSeqNum));
    assert.ok(before.length >= 3, `the packets closed before the cut went to the closed chunk (${before.length})`);
    assert.deepEqual(before, [...before.keys()], 'in order, none missing');
    assert.ok(after.every((n) => n >= before.length), `the next chunk only has packets from the cut on (${after.join(',')})`);
  } finally {
    channel.close();
  }
});
