// The daemon's side of an app's data connection (src/sessiond/ust/app-data-connection.ts) on real Unix sockets
// and real files: the app's sink (src/ust/daemon-sink.ts) writes a trace through it; protocol garbage (a folder
// the daemon did not give, a bad stream name, sequence numbers going back, an unknown frame, a huge length)
// closes the connection with one log line, and what came whole before stays written and readable.

import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeFrame, FrameDecoder } from '../../src/control/framing.js';
import { AppDataConnection } from '../../src/sessiond/ust/app-data-connection.js';
import { App } from '../../src/sessiond/ust/registered-app.js';
import { DATA_READY, DataKind, dataFrame, PACKET_HEADER_BYTES } from '../../src/ust/app-data-protocol.js';
import { DaemonDataConnection } from '../../src/ust/daemon-sink.js';
import { makeTraceDirectories } from '../../src/ctf/writer/trace-modes.js';
import { INDEX_ENTRY_SIZE, INDEX_HEADER_SIZE } from '../../src/ctf/writer/index-file.js';

interface Daemon {
  readonly path: string;
  readonly app: App;
  readonly log: string[];
  readonly conns: AppDataConnection[];
  readonly server: Server;
}

/** A server that does what AppRegistry does with a data connection: the hello frame, then AppDataConnection. */
async function daemon(root: string): Promise<Daemon> {
  const path = join(root, 'app.sock');
  const log: string[] = [];
  const conns: AppDataConnection[] = [];
  const control = createConnection({ path: '/nonexistent' });
  control.on('error', () => undefined);
  const app = new App(control, 4242, 1, 65534, 65534, 'node', new Date());
  const server = createServer((socket) => {
    const decoder = new FrameDecoder(1 << 20);
    socket.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) {
        assert.ok(f.ok);
        assert.deepEqual(f.body, { type: 'data', token: app.dataToken });
        socket.removeAllListeners('data');
        conns.push(new AppDataConnection(socket, app, (l) => log.push(l)));
        return;
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { path, app, log, conns, server };
}

/** A raw data connection past the hello: what a hostile app can send. */
async function raw(d: Daemon): Promise<Socket> {
  const s = createConnection(d.path);
  await new Promise<void>((r) => s.once('connect', r));
  s.write(encodeFrame({ type: 'data', token: d.app.dataToken }));
  const first = await new Promise<Buffer>((r) => s.once('data', r));
  assert.equal(first[0], DATA_READY);
  return s;
}

function closed(s: Socket): Promise<void> {
  return s.destroyed ? Promise.resolve() : new Promise((r) => s.once('close', () => r()));
}

function openTrace(trace: number, dir: string, flags = 0): Buffer {
  const p = Buffer.from(dir);
  const f = dataFrame(DataKind.OpenTrace, 5 + p.length);
  f.writeUInt32BE(trace, 5);
  f.writeUInt8(flags, 9);
  p.copy(f, 10);
  return f;
}

/** A live beacon: nothing on `stream` (stream class 0) up to `at`. */
function beacon(stream: number, at: bigint): Buffer {
  const f = dataFrame(DataKind.Beacon, 16);
  f.writeUInt32BE(stream, 5);
  f.writeBigUInt64BE(at, 9);
  f.writeUInt32BE(0, 17);
  return f;
}

function openStream(trace: number, stream: number, fileName: string): Buffer {
  const j = Buffer.from(JSON.stringify({ fileName, streamClassId: 0, streamInstanceId: 0, cpuId: 0, tracefileSize: 0, tracefileCount: 0 }));
  const f = dataFrame(DataKind.OpenStream, 8 + j.length);
  f.writeUInt32BE(trace, 5);
  f.writeUInt32BE(stream, 9);
  j.copy(f, 13);
  return f;
}

function packet(stream: number, seq: number, bytes = 4096, end = BigInt(200 + seq)): Buffer {
  const f = dataFrame(DataKind.Packet, PACKET_HEADER_BYTES + 64);
  f.writeUInt32BE(stream, 5);
  const fields = [bytes * 8, 64 * 8, 100 + seq, end, 0, 0, 0, seq];
  fields.forEach((v, i) => f.writeBigUInt64BE(BigInt(v), 9 + i * 8));
  f.fill(0xab, 9 + 64);
  return f;
}

test('the app\'s daemon sink writes a trace through the data connection: files, index entries, padding, acknowledged closes', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ltt-data-conn-'));
  const d = await daemon(root);
  try {
    const dir = join(root, 'trace');
    makeTraceDirectories(join(dir, 'index'));
    d.app.daemonDirs.set(dir, { shared: false, snapshot: false, limits: new Map([['channel0', { size: 0, count: 0 }]]) });
    const conn = new DaemonDataConnection(d.path, d.app.dataToken);
    const sink = conn.openTrace(dir, false);
    sink.writeMetadata(Buffer.from('/* CTF 1.8 */\n'));
    const stream = sink.openStream({ fileName: 'channel0_0', streamClassId: 3, streamInstanceId: 7, cpuId: 0 });
    const bytes = Buffer.alloc(8192, 0x11);
    for (let seq = 0; seq < 3; seq++) {
      stream.writePacket(bytes.subarray(0, 100), {
        packetSizeBits: 8192 * 8, contentSizeBits: 100 * 8, timestampBegin: BigInt(seq), timestampEnd: BigInt(seq + 1),
        eventsDiscarded: 0, streamId: 3, streamInstanceId: 7, packetSeqNum: seq,
      });
    }
    await stream.close();
    // Acknowledged: on disk now, padded to the packet size, one index entry each.
    assert.equal(statSync(join(dir, 'channel0_0')).size, 3 * 8192);
    assert.equal(statSync(join(dir, 'index', 'channel0_0.idx')).size, INDEX_HEADER_SIZE + 3 * INDEX_ENTRY_SIZE);
    await sink.close();
    assert.equal(readFileSync(join(dir, 'metadata'), 'utf8'), '/* CTF 1.8 */\n');
    // A snapshot's folder gets no index files, as lttng-consumerd's snapshots.
    const snap = join(root, 'snapshot');
    makeTraceDirectories(snap);
    d.app.daemonDirs.set(snap, { shared: false, snapshot: true, limits: new Map() });
    const snapSink = conn.openTrace(snap, false);
    snapSink.writeMetadata(Buffer.from('/* CTF 1.8 */\n'));
    const snapStream = snapSink.openStream({ fileName: 'channel0_0', streamClassId: 3, streamInstanceId: 7, cpuId: 0 });
    snapStream.writePacket(bytes.subarray(0, 100), {
      packetSizeBits: 8192 * 8, contentSizeBits: 100 * 8, timestampBegin: 0n, timestampEnd: 1n,
      eventsDiscarded: 0, streamId: 3, streamInstanceId: 7, packetSeqNum: 0,
    });
    await snapStream.close();
    await snapSink.close();
    assert.equal(statSync(join(snap, 'channel0_0')).size, 8192);
    assert.deepEqual(readdirSync(snap).sort(), ['channel0_0', 'metadata']);
    conn.close();
    assert.deepEqual(d.log, []);
  } finally {
    d.server.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('protocol garbage on a data connection closes it with one log line; what came whole before stays written', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ltt-data-conn-'));
  const d = await daemon(root);
  try {
    const given = join(root, 'given');
    makeTraceDirectories(join(given, 'index'));
    d.app.daemonDirs.set(given, { shared: false, snapshot: false, limits: new Map([['chan', { size: 0, count: 0 }]]) });
    const cases: Array<{ frames: Buffer[]; says: RegExp }> = [
      { frames: [openTrace(1, join(root, 'elsewhere'))], says: /a folder the daemon did not give it/ },
      { frames: [openTrace(1, '/etc')], says: /a folder the daemon did not give it/ },
      { frames: [openTrace(1, given, 1)], says: /bad flags/ },
      { frames: [openTrace(1, given), openStream(1, 1, '../escape')], says: /bad stream file name/ },
      { frames: [openTrace(1, given), openStream(1, 1, 'metadata')], says: /bad stream file name/ },
      { frames: [openTrace(1, given), openStream(1, 1, 'chan_a'), openStream(1, 2, 'chan_a')], says: /opened twice/ },
      { frames: [openTrace(1, given), openStream(1, 1, 'other_0')], says: /no channel of the session has that name/ },
      { frames: [openTrace(1, given), packet(9, 0)], says: /stream 9, not open/ },
      { frames: [openTrace(1, given), openStream(1, 1, 'chan_seq'), packet(1, 5), packet(1, 5)], says: /sequence number 5 after 5/ },
      { frames: [openTrace(1, given), openStream(1, 1, 'chan_big'), packet(1, 0, 1 << 30)], says: /packet size/ },
      // A far-future time would hold every stream a live viewer muxes with it (other users' too).
      { frames: [openTrace(1, given), openStream(1, 1, 'chan_fut'), packet(1, 0, 4096, process.hrtime.bigint() + 3_600_000_000_000n)], says: /ends in the future/ },
      { frames: [openTrace(1, given), openStream(1, 1, 'chan_beacon'), beacon(1, process.hrtime.bigint() + 3_600_000_000_000n)], says: /beacon of chan_beacon in the future/ },
      { frames: [dataFrame(99 as DataKind, 0)], says: /unknown frame kind 99/ },
      { frames: [Buffer.from([0xff, 0xff, 0xff, 0xff, 1])], says: /a frame of 4294967295 bytes/ },
    ];
    for (const c of cases) {
      const before = d.log.length;
      const s = await raw(d);
      s.on('error', () => undefined);
      for (const f of c.frames) s.write(f);
      await closed(s);
      await d.conns[d.conns.length - 1]!.done;
      assert.equal(d.log.length, before + 1, d.log.slice(before).join('\n'));
      assert.match(d.log[before]!, c.says);
    }
    assert.deepEqual(readdirSync(root).sort(), ['app.sock', 'given'], 'nothing made outside the given folder');
    // The first packet of 'chan_seq' came whole before the bad one: written, with its index entry, the files closed.
    assert.equal(statSync(join(given, 'chan_seq')).size, 4096);
    assert.equal(statSync(join(given, 'index', 'chan_seq.idx')).size, INDEX_HEADER_SIZE + INDEX_ENTRY_SIZE);
  } finally {
    d.server.close();
    rmSync(root, { recursive: true, force: true });
  }
});
