// The live viewer protocol at the byte level, on ltt-relayd: a peer (RelayClient) records a live session, a
// hand-written viewer attaches from the beginning, reads every packet, and sees each data stream hang up once
// the peer closed it; a stream read to its end is not offered again as a new stream (lttng-relayd unpublishes
// closed streams; babeltrace2 looped on GET_NEW_STREAMS when it was), and the session then hangs up.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayClient } from '../../src/relay/relay-client.js';
import { REPO_ROOT } from '../repo-paths.js';
import { freePorts, readStoredTrace, startRelay } from './relay-helpers.js';

const SOURCE = join(REPO_ROOT, 'test', 'view', 'lttng-ust-texts', 'traces', 'uid', 'ust', 'uid', '0', '64-bit');

/** A viewer connection: requests and their fixed-size (or self-described) replies. */
class Viewer {
  private buf = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiting?.();
    });
  }
  static open(port: number): Promise<Viewer> {
    return new Promise((resolve) => {
      const s = connect(port, '127.0.0.1', () => resolve(new Viewer(s)));
    });
  }
  send(cmd: number, payload: Buffer): void {
    const h = Buffer.alloc(16);
    h.writeBigUInt64BE(BigInt(payload.length), 0);
    h.writeUInt32BE(cmd, 8);
    this.socket.write(Buffer.concat([h, payload]));
  }
  async read(n: number): Promise<Buffer> {
    while (this.buf.length < n) await new Promise<void>((r) => (this.waiting = r));
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
  /** Reads nothing more from the socket (a stuck viewer). */
  stopReading(): void {
    this.socket.pause();
  }
  close(): void {
    this.socket.destroy();
  }
}

const u64 = (v: number | bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(v));
  return b;
};

test('a live viewer reads every packet, each stream hangs up once closed and is not offered again', { timeout: 60_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'ltt-relay-liveproto-'));
  const relay = await startRelay('ltt', join(work, 'out'));
  try {
    const src = readStoredTrace(SOURCE);
    const c = await RelayClient.connect('127.0.0.1', relay.ports.control, relay.ports.data);
    await c.version();
    const session = await c.createSession({ name: 'proto', hostname: 'h', liveTimerUs: 100000, sessiondUuid: randomBytes(16), sessiondSessionId: 1n, creationTime: 0 });
    await c.createTraceChunk(0n, 0);
    const meta = await c.addStream('metadata', 'ust/uid/0/64-bit', 0n);
    const handles = [];
    for (const s of src.streams) handles.push(await c.addStream(s.channel, 'ust/uid/0/64-bit', 0n));
    await c.streamsSent();
    await c.sendMetadata(meta, src.metadata);

    const v = await Viewer.open(relay.ports.live);
    const connectReq = Buffer.alloc(20);
    connectReq.writeBigInt64BE(-1n, 0);
    connectReq.writeUInt32BE(2, 8);
    connectReq.writeUInt32BE(4, 12);
    connectReq.writeUInt32BE(1, 16);
    v.send(1, connectReq);
    const connected = await v.read(20);
    assert.deepEqual([connected.readUInt32BE(8), connected.readUInt32BE(12)], [2, 4]);
    v.send(8, Buffer.alloc(0));
    assert.equal((await v.read(4)).readUInt32BE(0), 1);
    v.send(3, Buffer.concat([u64(session.id), u64(0), Buffer.from([0, 0, 0, 1])]));
    const attach = await v.read(8);
    assert.deepEqual([attach.readUInt32BE(0), attach.readUInt32BE(4)], [1, 3]);
    const ids: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const st = await v.read(4371);
      if (st.readUInt32BE(16) === 0) ids.push(st.readBigUInt64BE(0));
      assert.equal(st.subarray(20, 36).toString('latin1'), 'ust/uid/0/64-bit');
    }
    assert.equal(ids.length, 2);

    // The peer sends every packet and closes its streams.
    for (const [i, s] of src.streams.entries()) {
      for (const [seq, p] of s.packets.entries()) {
        await c.sendPacket(handles[i]!, BigInt(seq), p.bytes);
        await c.sendIndex(handles[i]!, BigInt(seq), p.entry);
      }
      while (await c.dataPending(handles[i]!, BigInt(s.packets.length - 1))) await new Promise((r) => setTimeout(r, 10));
      await c.closeStream(handles[i]!, BigInt(s.packets.length - 1));
    }

    // The viewer reads every packet of each stream, then HUP.
    for (const [i, id] of ids.entries()) {
      const expected = src.streams.find((s) => s.channel === `texts_${i}`)!;
      for (const p of expected.packets) {
        v.send(4, u64(id));
        const index = await v.read(64);
        assert.equal(index.readUInt32BE(56), 1, 'INDEX_OK');
        const len = Number(index.readBigUInt64BE(8)) / 8;
        const lenField = Buffer.alloc(4);
        lenField.writeUInt32BE(len);
        v.send(5, Buffer.concat([u64(id), index.subarray(0, 8), lenField]));
        const head = await v.read(12);
        assert.equal(head.readUInt32BE(0), 1, 'PACKET_OK');
        assert.deepEqual(await v.read(head.readUInt32BE(4)), p.bytes);
      }
      v.send(4, u64(id));
      assert.equal((await v.read(64)).readUInt32BE(56), 3, 'INDEX_HUP once read to its end');
    }
    // Read to their end, the streams are not offered again.
    v.send(7, u64(session.id));
    const fresh = await v.read(8);
    assert.equal(fresh.readUInt32BE(4), 0, 'no stream offered again');
    v.close();
    c.close();
  } finally {
    await relay.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

test('ltt view -i lttng-live lists a relay\'s live sessions; bad URLs, no relay and no such session: one-line errors', { timeout: 60_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'ltt-relay-viewlist-'));
  const relay = await startRelay('ltt', join(work, 'out'));
  const view = (...args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'ltt'), 'view', ...args], { encoding: 'utf8', timeout: 30_000 });
  try {
    const c = await RelayClient.connect('127.0.0.1', relay.ports.control, relay.ports.data);
    await c.version();
    await c.createSession({ name: 'listed', hostname: 'far-host', liveTimerUs: 250000, sessiondUuid: randomBytes(16), sessiondSessionId: 1n, creationTime: 0 });
    await c.createTraceChunk(0n, 0);
    await c.addStream('metadata', 'kernel', 0n);
    await c.streamsSent();
    const listed = view('-i', 'lttng-live', `net://127.0.0.1:${relay.ports.live}`);
    assert.equal(listed.status, 0, listed.stderr);
    assert.equal(listed.stdout, `net://127.0.0.1:${relay.ports.live}/host/far-host/listed (timer = 250000, 1 stream(s), 0 client(s) connected)\n`);
    c.close();
    for (const [args, message] of [
      [['-i', 'lttng-live', 'http://x/'], /^Error: Invalid LTTng live URL "http:\/\/x\/"/],
      [['-i', 'lttng-live', `net://127.0.0.1:${relay.ports.live}/host/far-host/other`], /^Error: Unable to connect to the requested live viewer session: no session "other" of host "far-host"/],
      [['-i', 'lttng-live', `net://127.0.0.1:${(await freePorts(1))[0]}`], /^Error: Cannot connect to the relay at 127\.0\.0\.1:\d+: ECONNREFUSED/],
    ] as const) {
      const r = view(...args);
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, message);
      assert.equal(r.stderr.split('\n').length, 2, r.stderr);
    }
  } finally {
    await relay.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

/** Resident memory of a process, MiB. */
function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

test('a viewer that sends requests and reads no reply: the relay stops reading it, its memory stays bounded, recording goes on', { timeout: 120_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'ltt-relay-stuck-'));
  const relay = await startRelay('ltt', join(work, 'out'));
  try {
    const src = readStoredTrace(SOURCE);
    // One 1 MiB packet: the first real packet of the texts trace, its sizes rewritten, zero-filled after its content.
    const MIB = 1 << 20;
    const first = src.streams[0]!.packets[0]!;
    const packet = Buffer.alloc(MIB);
    first.bytes.copy(packet, 0, 0, Math.min(first.bytes.length, Number(first.entry.readBigUInt64BE(16)) / 8));
    packet.writeBigUInt64LE(BigInt(MIB * 8), 56);
    const entry = Buffer.from(first.entry);
    entry.writeBigUInt64BE(BigInt(MIB * 8), 8);
    const c = await RelayClient.connect('127.0.0.1', relay.ports.control, relay.ports.data);
    await c.version();
    const session = await c.createSession({ name: 'stuck', hostname: 'h', liveTimerUs: 100000, sessiondUuid: randomBytes(16), sessiondSessionId: 1n, creationTime: 0 });
    await c.createTraceChunk(0n, 0);
    const meta = await c.addStream('metadata', 'ust/uid/0/64-bit', 0n);
    const handle = await c.addStream('texts_0', 'ust/uid/0/64-bit', 0n);
    await c.streamsSent();
    await c.sendMetadata(meta, src.metadata);
    const send = async (seq: number): Promise<void> => {
      entry.writeBigUInt64BE(BigInt(seq), 64);
      await c.sendPacket(handle, BigInt(seq), packet);
      await c.sendIndex(handle, BigInt(seq), entry);
    };
    await send(0);
    while (await c.dataPending(handle, 0n)) await new Promise((r) => setTimeout(r, 10));

    const v = await Viewer.open(relay.ports.live);
    const connectReq = Buffer.alloc(20);
    connectReq.writeBigInt64BE(-1n, 0);
    connectReq.writeUInt32BE(2, 8);
    connectReq.writeUInt32BE(4, 12);
    connectReq.writeUInt32BE(1, 16);
    v.send(1, connectReq);
    await v.read(20);
    v.send(8, Buffer.alloc(0));
    await v.read(4);
    v.send(3, Buffer.concat([u64(session.id), u64(0), Buffer.from([0, 0, 0, 1])]));
    const streams = (await v.read(8)).readUInt32BE(4);
    let id = 0n;
    for (let i = 0; i < streams; i++) {
      const st = await v.read(4371);
      if (st.readUInt32BE(16) === 0) id = st.readBigUInt64BE(0);
    }
    v.send(4, u64(id));
    assert.equal((await v.read(64)).readUInt32BE(56), 1, 'INDEX_OK');
    v.stopReading();
    const before = rssMiB(relay.child.pid!);
    // 600 requests for the 1 MiB packet, no reply read: 600 MiB of replies if the relay kept making them.
    const req = Buffer.concat([u64(id), u64(0), Buffer.from([0, 0x10, 0, 0])]);
    for (let i = 0; i < 600; i++) v.send(5, req);
    // Recording goes on meanwhile: 50 more packets, written and acknowledged.
    for (let seq = 1; seq <= 50; seq++) await send(seq);
    while (await c.dataPending(handle, 50n)) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 1000));
    const after = rssMiB(relay.child.pid!);
    assert.ok(after - before < 150, `the relay grew from ${before.toFixed(0)} MiB to ${after.toFixed(0)} MiB`);
    v.close();
    await c.closeStream(handle, 50n);
    c.close();
  } finally {
    await relay.stop();
    rmSync(work, { recursive: true, force: true });
  }
});
