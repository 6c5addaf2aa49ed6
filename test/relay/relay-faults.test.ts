// ltt-relayd under faults, on real sockets:
//   - a peer killed mid-stream (both connections cut inside a packet): the relay closes that session's streams,
//     keeps every packet it received whole, cuts off the cut one, reads cleanly, and serves the next peer;
//   - garbage on each port, more than 100 000 frames (bad sizes, unknown commands, truncated frames, huge
//     lengths, host, session, path and channel names with '/', '..', NUL or a leading '.'): each bad
//     connection closes, the relay stays up, its peak memory stays bounded, and no file appears outside --output;
//   - tracefiles (a size per file): a late index entry of a file whose name the ring took again, and a rotation
//     whose point comes after packets past it went into several tracefiles of the old chunk.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayClient, type ClientSession } from '../../src/relay/relay-client.js';
import { REPO_ROOT } from '../repo-paths.js';
import { BT2, listFiles, readStoredTrace, startRelay, type Relay } from './relay-helpers.js';

const SOURCE = join(REPO_ROOT, 'test', 'view', 'lttng-ust-texts', 'traces', 'uid', 'ust', 'uid', '0', '64-bit');
const TRACE_PATH = 'ust/uid/0/64-bit';

function sessionOf(name: string, hostname: string): ClientSession {
  return { name, hostname, liveTimerUs: 0, sessiondUuid: randomBytes(16), sessiondSessionId: 1n, creationTime: Math.floor(Date.now() / 1000) };
}

/** Files under the relay's output still open by the relay. */
function openOutputFiles(relay: Relay): string[] {
  const dir = `/proc/${relay.child.pid}/fd`;
  return readdirSync(dir)
    .map((fd) => {
      try {
        return readlinkSync(join(dir, fd));
      } catch {
        return '';
      }
    })
    .filter((p) => p.startsWith(relay.output));
}

async function until(what: string, done: () => boolean): Promise<void> {
  for (let i = 0; !done(); i++) {
    if (i > 200) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A whole session sent by a well-behaved peer: all packets of the source trace. */
async function sendWholeTrace(relay: Relay, name: string): Promise<string> {
  const src = readStoredTrace(SOURCE);
  const c = await RelayClient.connect('127.0.0.1', relay.ports.control, relay.ports.data);
  await c.version();
  const { outputPath } = await c.createSession(sessionOf(name, 'wellbehaved'));
  await c.createTraceChunk(0n, Math.floor(Date.now() / 1000));
  const meta = await c.addStream('metadata', TRACE_PATH, 0n);
  const handles = [];
  for (const s of src.streams) handles.push(await c.addStream(s.channel, TRACE_PATH, 0n));
  await c.streamsSent();
  await c.sendMetadata(meta, src.metadata);
  for (const [i, s] of src.streams.entries()) {
    for (const [seq, p] of s.packets.entries()) {
      await c.sendPacket(handles[i]!, BigInt(seq), p.bytes);
      await c.sendIndex(handles[i]!, BigInt(seq), p.entry);
    }
    await c.closeStream(handles[i]!, BigInt(s.packets.length - 1));
  }
  await c.closeStream(meta, 0xffffffffffffffffn);
  c.close();
  return join(relay.output, outputPath, TRACE_PATH);
}

test('a peer killed inside a packet: the relay closes its streams, keeps the whole packets, serves the next peer', { timeout: 120_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'ltt-relay-killed-'));
  const relay = await startRelay('ltt', join(work, 'out'));
  try {
    const src = readStoredTrace(SOURCE);
    const [s0, s1] = src.streams as [typeof src.streams[0], typeof src.streams[0]];
    const c = await RelayClient.connect('127.0.0.1', relay.ports.control, relay.ports.data);
    await c.version();
    const { outputPath } = await c.createSession(sessionOf('killed', 'peerhost'));
    await c.createTraceChunk(0n, Math.floor(Date.now() / 1000));
    const meta = await c.addStream('metadata', TRACE_PATH, 0n);
    const h0 = await c.addStream(s0.channel, TRACE_PATH, 0n);
    const h1 = await c.addStream(s1.channel, TRACE_PATH, 0n);
    await c.streamsSent();
    await c.sendMetadata(meta, src.metadata);
    // Stream 0: two packets whole, then half of the third (its index never comes). Stream 1: one packet.
    for (const seq of [0, 1]) {
      await c.sendPacket(h0, BigInt(seq), s0.packets[seq]!.bytes);
      await c.sendIndex(h0, BigInt(seq), s0.packets[seq]!.entry);
    }
    await c.sendPacket(h1, 0n, s1.packets[0]!.bytes);
    await c.sendIndex(h1, 0n, s1.packets[0]!.entry);
    const header = Buffer.alloc(32);
    header.writeBigUInt64BE(h0, 8);
    header.writeBigUInt64BE(2n, 16);
    header.writeUInt32BE(s0.packets[2]!.bytes.length, 24);
    c.data.write(Buffer.concat([header, s0.packets[2]!.bytes.subarray(0, 1000)]));
    await new Promise((r) => setTimeout(r, 300));
    assert.notDeepEqual(openOutputFiles(relay), [], 'the streams are open while the peer lives');
    c.destroy();

    await until('the relay closed the killed session\'s files', () => openOutputFiles(relay).length === 0);
    const stored = join(relay.output, outputPath, TRACE_PATH);
    assert.equal(statSync(join(stored, s0.channel)).size, s0.packets[0]!.bytes.length + s0.packets[1]!.bytes.length, 'the cut packet is cut off');
    // What was received reads as the same packets written locally.
    const expected = join(work, 'expected', TRACE_PATH);
    mkdirSync(expected, { recursive: true });
    writeFileSync(join(expected, 'metadata'), src.metadata);
    writeFileSync(join(expected, s0.channel), Buffer.concat([s0.packets[0]!.bytes, s0.packets[1]!.bytes]));
    writeFileSync(join(expected, s1.channel), s1.packets[0]!.bytes);
    const ours = spawnSync(BT2, [stored], { encoding: 'utf8' });
    const theirs = spawnSync(BT2, [expected], { encoding: 'utf8' });
    assert.equal(ours.stderr, '');
    assert.equal(ours.status, 0);
    assert.ok(theirs.stdout.length > 0);
    assert.equal(ours.stdout, theirs.stdout);

    // The relay serves the next peer, whose trace is whole.
    const next = await sendWholeTrace(relay, 'next');
    await until('the next session is closed', () => openOutputFiles(relay).length === 0);
    assert.equal(spawnSync(BT2, [next], { encoding: 'utf8' }).stdout, spawnSync(BT2, [SOURCE], { encoding: 'utf8' }).stdout);
    assert.equal(relay.child.exitCode, null);
  } finally {
    await relay.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

/** xorshift: the same garbage on every run of one seed (the seed is printed on failure). */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
}

const HOSTILE = ['..', '../../../../../../../tmp/ESCAPE', '/etc', 'a/../../..', '.hidden', 'x\0/../../ESCAPE', '', 'ok/../../../ESCAPE', '/', '.', 'a/b', '\0'];

function controlFrame(cmd: number, payload: Buffer, claimed = BigInt(payload.length)): Buffer {
  const h = Buffer.alloc(24);
  h.writeBigUInt64BE(claimed, 8);
  h.writeUInt32BE(cmd, 16);
  return Buffer.concat([h, payload]);
}

function createSessionFrame(name: string, host: string, base: string, chunk?: bigint): Buffer {
  const n = Buffer.from(`${name}\0`);
  const h = Buffer.from(`${host}\0`);
  const b = base === '' ? Buffer.alloc(0) : Buffer.from(`${base}\0`);
  const p = Buffer.alloc(59);
  p.writeUInt32BE(n.length, 0);
  p.writeUInt32BE(h.length, 4);
  p.writeUInt32BE(b.length, 8);
  randomBytes(16).copy(p, 18);
  p.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000)), 42);
  if (chunk !== undefined) {
    p[50] = 1;
    p.writeBigUInt64BE(chunk, 51);
  }
  return controlFrame(2, Buffer.concat([p, n, h, b]));
}

function addStreamFrame(channel: string, path: string): Buffer {
  const c = Buffer.from(`${channel}\0`);
  const p = Buffer.from(`${path}\0`);
  const head = Buffer.alloc(32);
  head.writeUInt32BE(c.length, 0);
  head.writeUInt32BE(p.length, 4);
  return controlFrame(1, Buffer.concat([head, c, p]));
}

const VERSION_FRAME = controlFrame(5, Buffer.from([0, 0, 0, 2, 0, 0, 0, 13]));
const CHUNK_FRAME = controlFrame(19, Buffer.alloc(20));

/** One connection's worth of frames for `port`; how many frames. */
function garbage(port: 'control' | 'data' | 'live', r: (n: number) => number): { bytes: Buffer; frames: number } {
  const frames: Buffer[] = [];
  const pick = <T>(a: readonly T[]): T => a[r(a.length)]!;
  const randomFrame = (): Buffer => {
    const size = pick([0, 1, 7, 8, 20, 59, r(5000), 0xffffffff, 2 ** 40]);
    const body = randomBytes(Math.min(size, r(300)));
    if (port === 'live') {
      const h = Buffer.alloc(16);
      h.writeBigUInt64BE(BigInt(size), 0);
      h.writeUInt32BE(pick([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 10, 0xffffffff, r(1 << 30)]), 8);
      return Buffer.concat([h, body]);
    }
    if (port === 'data') {
      const h = Buffer.alloc(32);
      h.writeBigUInt64BE(BigInt(r(8)), 8);
      h.writeBigUInt64BE(BigInt(r(4)), 16);
      h.writeUInt32BE(Math.min(size, 0xffffffff), 24);
      h.writeUInt32BE(pick([0, r(100), 0xffffffff]), 28);
      return Buffer.concat([h, body]);
    }
    return controlFrame(pick([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20, 21, 22, 23, 0, 0xffffffff]), body, BigInt(size));
  };
  if (port === 'control' && r(4) !== 0) {
    frames.push(VERSION_FRAME);
    const hostile = r(3) === 0;
    frames.push(createSessionFrame(hostile ? pick(HOSTILE) : `fuzz${r(4)}`, hostile ? pick(HOSTILE) : 'fuzzhost', r(4) === 0 ? pick(HOSTILE) : ''));
    frames.push(CHUNK_FRAME);
    // Refused streams keep the connection: many hostile names per connection reach the path checks.
    for (let i = 0, n = r(60); i < n; i++) frames.push(addStreamFrame(r(2) ? pick(HOSTILE) : `chan_${r(3)}`, r(2) ? pick(HOSTILE) : `ust/${pick(HOSTILE)}`));
  }
  if (port === 'live' && r(2) === 0) {
    const connectFrame = Buffer.alloc(36);
    connectFrame.writeBigUInt64BE(20n, 0);
    connectFrame.writeUInt32BE(1, 8);
    connectFrame.writeUInt32BE(2, 24);
    connectFrame.writeUInt32BE(4, 28);
    connectFrame.writeUInt32BE(1, 32);
    frames.push(connectFrame);
  }
  for (let i = 0, n = 1 + r(40); i < n; i++) frames.push(randomFrame());
  let bytes = Buffer.concat(frames);
  if (r(3) === 0) bytes = bytes.subarray(0, r(bytes.length + 1)); // truncated
  return { bytes, frames: frames.length };
}

function sendAndClose(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.end(bytes));
    s.on('data', () => undefined);
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.setTimeout(5000, () => s.destroy());
  });
}

function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

test('garbage on each port: connections close, the relay stays up, memory bounded, nothing outside --output', { timeout: 600_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'ltt-relay-fuzz-'));
  const relay = await startRelay('ltt', join(work, 'a', 'b', 'out'));
  const seed = Number(process.env.RELAY_FUZZ_SEED ?? Date.now() % 1_000_000);
  const r = prng(seed);
  try {
    // A real session stays open meanwhile: garbage on the data port hits its stream handles.
    const src = readStoredTrace(SOURCE);
    const live = await RelayClient.connect('127.0.0.1', relay.ports.control, relay.ports.data);
    await live.version();
    await live.createSession(sessionOf('bystander', 'fuzzhost'));
    await live.createTraceChunk(0n, 0);
    await live.addStream('metadata', TRACE_PATH, 0n);
    await live.addStream(src.streams[0]!.channel, TRACE_PATH, 0n);
    await live.streamsSent();

    let frames = 0;
    const ports = ['control', 'data', 'live'] as const;
    while (frames < 100_000) {
      const batch = [];
      for (let i = 0; i < 8; i++) {
        const port = ports[r(3)]!;
        const g = garbage(port, r);
        frames += g.frames;
        batch.push(sendAndClose(relay.ports[port], g.bytes));
      }
      await Promise.all(batch);
      assert.equal(relay.child.exitCode, null, `ltt-relayd died (seed ${seed}): ${relay.stderr()}`);
    }

    // Still serving: a well-behaved peer's trace is stored whole, and the live port lists sessions.
    const stored = await sendWholeTrace(relay, 'afterfuzz');
    await until('the well-behaved session is closed', () => !openOutputFiles(relay).some((f) => f.includes('afterfuzz')));
    assert.equal(spawnSync(BT2, [stored], { encoding: 'utf8' }).stdout, spawnSync(BT2, [SOURCE], { encoding: 'utf8' }).stdout);
    const listing = spawnSync(BT2, ['-i', 'lttng-live', `net://localhost:${relay.ports.live}`], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(listing.status, 0, listing.stderr);

    const peak = peakRssMiB(relay.child.pid!);
    assert.ok(peak < 300, `peak RSS ${peak.toFixed(0)} MiB (seed ${seed})`);
    // Nothing outside --output: the folders above it hold only it, and no ESCAPE file anywhere near.
    // (ltt-run beside it is the relay's runtime folder, the test's LTT_RUNDIR: its log only.)
    assert.deepEqual(readdirSync(join(work, 'a', 'b')).sort(), ['ltt-run', 'out']);
    assert.deepEqual(readdirSync(join(work, 'a', 'b', 'ltt-run')), ['ltt-relayd.log']);
    assert.deepEqual(readdirSync(join(work, 'a')), ['b']);
    assert.deepEqual(readdirSync(work), ['a']);
    assert.ok(!existsSync('/tmp/ESCAPE') && !existsSync('/etc/chan_0'), `a file escaped (seed ${seed})`);
    for (const f of listFiles(relay.output)) assert.doesNotMatch(f, /(^|\/)(\.|\.\.)?(\/|$)|ESCAPE|\0/, `odd stored path ${f} (seed ${seed})`);
    live.close();
  } finally {
    await relay.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

function createChunkFrame(id: bigint, name?: Buffer, claimed = name?.length ?? 0): Buffer {
  const p = Buffer.alloc(20);
  p.writeBigUInt64BE(id, 0);
  p.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000)), 8);
  p.writeUInt32BE(claimed, 16);
  return controlFrame(19, name === undefined ? p : Buffer.concat([p, name]));
}

function closeChunkFrame(id: bigint, command?: number): Buffer {
  const p = Buffer.alloc(21);
  p.writeBigUInt64BE(id, 0);
  p.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000)), 8);
  if (command !== undefined) {
    p[16] = 1;
    p.writeUInt32BE(command, 17);
  }
  return controlFrame(20, p);
}

/** ROTATE_STREAMS, packed header: count, optional next chunk id, (stream, packet seq num) positions. */
function rotateFrame(next: bigint | undefined, positions: Array<[bigint, bigint]>, count = positions.length): Buffer {
  const p = Buffer.alloc(13 + 16 * positions.length);
  p.writeUInt32BE(count, 0);
  if (next !== undefined) {
    p[4] = 1;
    p.writeBigUInt64BE(next, 5);
  }
  positions.forEach(([stream, seq], i) => {
    p.writeBigUInt64BE(stream, 13 + 16 * i);
    p.writeBigUInt64BE(seq, 21 + 16 * i);
  });
  return controlFrame(18, p);
}

/** Sends `bytes` without ending: true once the relay closed the connection, false if it is still open after `ms`. */
function closedByRelay(port: number, bytes: Buffer, ms = 5000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(bytes));
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, ms);
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

test('bad trace chunk commands: bad ids, names with / .. NUL, huge lengths close the connection, nothing lands outside --output', { timeout: 300_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'ltt-relay-chunk-fuzz-'));
  const relay = await startRelay('ltt', join(work, 'a', 'b', 'out'));
  try {
    // Each case: a session with its first chunk and a stream (handle 1 of the relay), then the bad command.
    const opening = (n: number): Buffer =>
      Buffer.concat([VERSION_FRAME, createSessionFrame(`chunkfuzz${n}`, 'fuzzhost', ''), CHUNK_FRAME, addStreamFrame('metadata', 'ust/x')]);
    const name = (text: string): Buffer => Buffer.from(text, 'latin1');
    const cases: Array<[string, Buffer]> = [
      ['override name with a /', createChunkFrame(1n, name('a/b\0'))],
      ['override name ..', createChunkFrame(1n, name('..\0'))],
      ['override name walking up', createChunkFrame(1n, name('../../../../../../tmp/ESCAPE\0'))],
      ['override name .', createChunkFrame(1n, name('.\0'))],
      ['override name with a leading .', createChunkFrame(1n, name('.hidden\0'))],
      ['override name with a NUL inside', createChunkFrame(1n, name('ok\0../ESCAPE\0'))],
      ['override name without its NUL', createChunkFrame(1n, name('ESCAPE'))],
      ['empty override name', createChunkFrame(1n, name('\0'))],
      ['override name of 300 bytes', createChunkFrame(1n, name(`${'n'.repeat(299)}\0`))],
      ['override name length of 4 GiB', createChunkFrame(1n, name('abc\0'), 0xffffffff)],
      ['a second new chunk before the first is closed', Buffer.concat([createChunkFrame(1n), createChunkFrame(2n)])],
      ['close of an unknown chunk', closeChunkFrame(99n, 0)],
      ['close with an unknown command', closeChunkFrame(0n, 7)],
      ['close of a chunk other than the one waiting', Buffer.concat([createChunkFrame(1n), closeChunkFrame(1n, 0)])],
      ['rotation to an unknown chunk', rotateFrame(99n, [[1n, 0n]])],
      ['rotation of an unknown stream', Buffer.concat([createChunkFrame(1n), rotateFrame(1n, [[987654n, 0n]])])],
      ['rotation with a count the payload does not hold', rotateFrame(undefined, [[1n, 0n]], 0xffffffff)],
      ['rotation of one stream twice', Buffer.concat([createChunkFrame(1n), rotateFrame(1n, [[1n, 5n], [1n, 5n]])])],
      ['short TRACE_CHUNK_EXISTS', controlFrame(21, Buffer.alloc(3))],
      ['short CLOSE_TRACE_CHUNK', controlFrame(20, Buffer.alloc(20))],
    ];
    let n = 0;
    for (const [what, frame] of cases) {
      assert.equal(await closedByRelay(relay.ports.control, Buffer.concat([opening(n++), frame])), true, `${what}: the connection closes`);
    }
    // The same opening with good chunk commands keeps the connection: the closes above are the bad input's.
    const good = Buffer.concat([opening(n++), createChunkFrame(1n, name('snapshot-good-0\0')), closeChunkFrame(0n, 1)]);
    assert.equal(await closedByRelay(relay.ports.control, good, 1500), false, 'good chunk commands keep the connection');

    // Random sequences of chunk commands with hostile names and ids: the relay stays up.
    const seed = Number(process.env.RELAY_FUZZ_SEED ?? Date.now() % 1_000_000);
    const r = prng(seed);
    const names = [...HOSTILE.map((h) => `${h}\0`), 'fine\0', 'snap-1\0', ''];
    for (let batch = 0; batch < 40; batch++) {
      const conns = [];
      for (let i = 0; i < 10; i++) {
        const frames = [opening(n++)];
        for (let k = 0, m = 1 + r(8); k < m; k++) {
          const id = BigInt(r(4));
          const nm = names[r(names.length)]!;
          frames.push(
            [
              () => createChunkFrame(id, nm === '' ? undefined : name(nm), r(10) === 0 ? r(1 << 20) : undefined),
              () => closeChunkFrame(id, r(5) === 0 ? undefined : r(4)),
              () => rotateFrame(r(3) === 0 ? undefined : id, [[BigInt(r(6)), BigInt(r(3))]]),
              () => controlFrame(21, Buffer.from(id.toString(16).padStart(16, '0'), 'hex')),
            ][r(4)]!(),
          );
        }
        conns.push(sendAndClose(relay.ports.control, Buffer.concat(frames)));
      }
      await Promise.all(conns);
      assert.equal(relay.child.exitCode, null, `ltt-relayd died (seed ${seed}): ${relay.stderr()}`);
    }

    assert.deepEqual(readdirSync(join(work, 'a', 'b')).sort(), ['ltt-run', 'out']);
    assert.deepEqual(readdirSync(join(work, 'a')), ['b']);
    assert.deepEqual(readdirSync(work), ['a']);
    assert.ok(!existsSync('/tmp/ESCAPE'), 'a file escaped');
    const host = join(relay.output, 'fuzzhost');
    for (const session of readdirSync(host)) {
      for (const entry of readdirSync(join(host, session))) assert.doesNotMatch(entry, /^\.\.?$|ESCAPE|\//, `odd chunk folder ${session}/${entry} (seed ${seed})`);
    }
    assert.ok(readdirSync(host).some((s) => readdirSync(join(host, s)).includes('snapshot-good-0')), 'the good override name made its folder');
  } finally {
    await relay.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

test('tracefiles in a ring: an index entry that comes after its file\'s name was taken again goes to that file\'s index, not the new file\'s', { timeout: 120_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'ltt-relay-ring-'));
  const relay = await startRelay('ltt', join(work, 'out'));
  try {
    const src = readStoredTrace(SOURCE);
    const s0 = src.streams[0]!;
    const packets = s0.packets.slice(0, 3);
    assert.equal(packets.length, 3);
    const c = await RelayClient.connect('127.0.0.1', relay.ports.control, relay.ports.data);
    await c.version();
    const { outputPath } = await c.createSession(sessionOf('ring', 'ringhost'));
    await c.createTraceChunk(0n, Math.floor(Date.now() / 1000));
    const meta = await c.addStream('metadata', TRACE_PATH, 0n);
    // One packet per file, two files: packet 2 takes CHANNEL_0 again while packet 0's entry is still to come.
    const h = await c.addStream(s0.channel, TRACE_PATH, 0n, { size: Math.min(...packets.map((p) => p.bytes.length)), count: 2 });
    await c.streamsSent();
    await c.sendMetadata(meta, src.metadata);
    for (const [seq, p] of packets.entries()) await c.sendPacket(h, BigInt(seq), p.bytes);
    // The data port's packets are in before any index half (the control port lags, as it may).
    await new Promise((r) => setTimeout(r, 500));
    for (const seq of [2, 0, 1]) await c.sendIndex(h, BigInt(seq), packets[seq]!.entry);
    await c.closeStream(h, 2n);
    await c.closeStream(meta, 0xffffffffffffffffn);
    c.close();
    await until('the relay closed the files', () => openOutputFiles(relay).length === 0);
    const dir = join(relay.output, outputPath, TRACE_PATH);
    const data = readFileSync(join(dir, `${s0.channel}_0`));
    const idx = readFileSync(join(dir, 'index', `${s0.channel}_0.idx`));
    const size = idx.readUInt32BE(12);
    assert.equal((idx.length - 16) / size, 1, 'one entry: packet 2\'s');
    const entry = idx.subarray(16, 16 + size);
    // Before: packet 0's late entry opened the index by name and emptied it, then wrote itself there.
    assert.deepEqual(entry.subarray(8, 72), packets[2]!.entry.subarray(8, 72), 'the entry is packet 2\'s');
    assert.equal(entry.readBigUInt64BE(0), 0n);
    assert.deepEqual(data.subarray(0, packets[2]!.bytes.length), packets[2]!.bytes);
  } finally {
    await relay.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

/** The packets a stored stream's files hold, by their index entries (CHANNEL, or every CHANNEL_N in order). */
function packetsIn(dir: string, channel: string): Buffer[] {
  const out: Buffer[] = [];
  const n = (name: string): number => (name === channel ? -1 : Number(name.slice(channel.length + 1)));
  const files = readdirSync(dir).filter((f) => f === channel || (f.startsWith(channel) && /^_\d+$/.test(f.slice(channel.length)))).sort((a, b) => n(a) - n(b));
  for (const name of files) {
    const data = readFileSync(join(dir, name));
    const idx = readFileSync(join(dir, 'index', `${name}.idx`));
    const size = idx.readUInt32BE(12);
    let end = 0;
    for (let at = 16; at + size <= idx.length; at += size) {
      const offset = Number(idx.readBigUInt64BE(at));
      assert.equal(offset, end, `${name}: packets follow each other`);
      end = offset + Number(idx.readBigUInt64BE(at + 8)) / 8;
      out.push(data.subarray(offset, end));
    }
    assert.equal(data.length, end, `${name} holds only its indexed packets`);
  }
  return out;
}

for (const tracefiles of [false, true]) {
  const what = tracefiles
    ? 'packets past it that went into an earlier tracefile of the old chunk go to the next chunk'
    : 'packets past it go from the old chunk\'s file to the next chunk\'s (the relay read them back from a write-only file and dropped the connection)';
  test(`a rotation whose point is known late: ${what}`, { timeout: 120_000 }, async () => {
    const work = mkdtempSync(join(tmpdir(), 'ltt-relay-rotate-files-'));
    const relay = await startRelay('ltt', join(work, 'out'));
    try {
      const src = readStoredTrace(SOURCE);
      const s0 = src.streams[0]!;
      const packets = s0.packets.slice(0, 3);
      assert.equal(packets.length, 3);
      const psn = (i: number): bigint => packets[i]!.entry.readBigUInt64BE(64);
      const c = await RelayClient.connect('127.0.0.1', relay.ports.control, relay.ports.data);
      await c.version();
      const { outputPath } = await c.createSession(sessionOf('rotfiles', 'rotfileshost'));
      await c.createTraceChunk(0n, Math.floor(Date.now() / 1000));
      const meta = await c.addStream('metadata', TRACE_PATH, 0n);
      // With tracefiles, one packet per file: packets 0, 1, 2 land in CHANNEL_0, _1 and _2 of chunk 0.
      const files = tracefiles ? { size: Math.min(...packets.map((p) => p.bytes.length)), count: 8 } : { size: 0, count: 0 };
      const h = await c.addStream(s0.channel, TRACE_PATH, 0n, files);
      await c.streamsSent();
      await c.sendMetadata(meta, src.metadata);
      for (const seq of [0, 1, 2]) await c.sendPacket(h, BigInt(seq), packets[seq]!.bytes);
      await new Promise((r) => setTimeout(r, 500));
      // The rotation point is packet 1: only packet 0 belongs to chunk 0, but 1 and 2 are there already.
      await c.createTraceChunk(1n, Math.floor(Date.now() / 1000));
      await c.rotateStreams(1n, [{ handle: meta, rotateAt: 0n }, { handle: h, rotateAt: psn(1) }]);
      await c.sendMetadata(meta, src.metadata);
      for (const seq of [0, 1, 2]) await c.sendIndex(h, BigInt(seq), packets[seq]!.entry);
      await c.closeTraceChunk(0n, Math.floor(Date.now() / 1000), 'move-to-completed');
      await c.closeStream(h, 2n);
      await c.closeStream(meta, 0xffffffffffffffffn);
      c.close();
      await until('the relay closed the files', () => openOutputFiles(relay).length === 0);
      const session = join(relay.output, outputPath);
      const archives = readdirSync(join(session, 'archives'));
      assert.equal(archives.length, 1, `one archive: ${archives.join(', ')}`);
      const oldDir = join(session, 'archives', archives[0]!, TRACE_PATH);
      const newChunk = readdirSync(session).filter((n) => n !== 'archives');
      assert.equal(newChunk.length, 1, `one current chunk folder: ${newChunk.join(', ')}`);
      const newDir = join(session, newChunk[0]!, TRACE_PATH);
      // Before: the relay failed to read the packets back (EBADF) and dropped the connection; with tracefiles,
      // packet 1 stayed in chunk 0's CHANNEL_1 (only the current file's tail moved), its entry written there.
      assert.deepEqual(packetsIn(oldDir, s0.channel), [packets[0]!.bytes], 'chunk 0 holds packet 0 alone');
      assert.deepEqual(packetsIn(newDir, s0.channel), [1, 2].map((i) => packets[i]!.bytes), 'chunk 1 holds packets 1 and 2, in order');
      for (const dir of [oldDir, newDir]) {
        const bt = spawnSync(BT2, [dir], { encoding: 'utf8' });
        assert.equal(bt.status, 0, `babeltrace2 reads ${dir}: ${bt.stderr.slice(0, 400)}`);
      }
    } finally {
      await relay.stop();
      rmSync(work, { recursive: true, force: true });
    }
  });
}
