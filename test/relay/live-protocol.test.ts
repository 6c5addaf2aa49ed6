// The live viewer protocol at the byte level, on ltt-relayd: a peer (RelayClient) records a live session, a
// hand-written viewer attaches from the beginning, reads every packet, and sees each data stream hang up once
// the peer closed it; a stream read to its end is not offered again as a new stream (lttng-relayd unpublishes
// closed streams; babeltrace2 looped on GET_NEW_STREAMS when it was), and the session then hangs up.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
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

test('ltt view -i lttng-live lists a relay\'s live sessions; bad URLs, no relay and following: one-line errors', { timeout: 60_000 }, async () => {
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
      [['-i', 'lttng-live', `net://127.0.0.1:${relay.ports.live}/host/far-host/listed`], /^Error: following a live session is not supported by ltt view yet/],
      [['-i', 'lttng-live', `net://127.0.0.1:${(await freePorts(1))[0]}`], /^Error: Cannot list the sessions of the relay at 127\.0\.0\.1:\d+: ECONNREFUSED/],
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
