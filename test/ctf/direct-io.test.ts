// Stream files written with O_DIRECT (src/ctf/writer/direct-io.ts): the packet buffers are page-aligned, the
// data file is really opened O_DIRECT (its flags in /proc/self/fdinfo), a stream whose packets cannot be
// written directly goes back to the page cache on the same file, direct writes go behind the writer (staged
// copies, told in file order; a failure cuts the file back and fails what was staged after it), and either way
// the trace reads back whole (our reader and babeltrace2 agree on every event).

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { CtfTraceWriter } from '../../src/ctf/writer/index.js';
import { allocateAligned, DirectFile, directIoEnabled, STAGING_BYTES, stagingStats } from '../../src/ctf/writer/direct-io.js';
import { events as readEvents, openTrace } from '../../src/ctf/index.js';

const O_DIRECT = fs.constants.O_DIRECT;
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-direct-io-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** The open-file flags of this process's descriptor for `file` (from /proc/self/fdinfo; `last`: its newest), or undefined. */
function openFlags(file: string, last = false): number | undefined {
  const fds = fs.readdirSync('/proc/self/fd').sort((a, b) => Number(a) - Number(b));
  if (last) fds.reverse();
  for (const fd of fds) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== file) continue;
    const m = /^flags:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return m ? Number.parseInt(m[1]!, 8) : undefined;
  }
  return undefined;
}

async function writeTrace(dir: string, packetSize: number, pageSize: number, events: number): Promise<{ flags: number | undefined; lastFlags: number | undefined }> {
  const w = await CtfTraceWriter.create({ dir, env: { domain: 'kernel' }, clock: { name: 'monotonic', frequency: 1_000_000_000, offsetSeconds: 0n, offsetCycles: 0n } });
  const id = w.addEventClass({ name: 'tick', fields: [{ name: 'n', kind: 'int', size: 64, signed: false }, { name: 's', kind: 'string' }] });
  const s = w.openStream({ fileName: 'channel0_0', cpuId: 0, packetSize, pageSize });
  for (let i = 0; i < events; i++) s.write(id, 1000 + i * 10, [i, `event ${i}`]);
  const flags = openFlags(path.join(dir, 'channel0_0'));
  const lastFlags = openFlags(path.join(dir, 'channel0_0'), true);
  await w.close();
  return { flags, lastFlags };
}

function babeltraceLines(dir: string): string[] {
  const r = spawnSync('/usr/bin/babeltrace2', [dir], { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n');
}

async function ourEvents(dir: string): Promise<number[]> {
  const out: number[] = [];
  for await (const e of readEvents(await openTrace([dir]))) out.push(Number((e.payload as { n: number | bigint }).n));
  return out;
}

test('packet buffers are page-aligned and written with O_DIRECT; the trace reads back whole', { skip: directIoEnabled ? false : 'LTT_DIRECT_IO=0' }, async () => {
  const a = allocateAligned(16384);
  assert.equal(a.byteOffset % 4096, 0);

  const dir = path.join(tmpRoot, 'direct');
  const { flags } = await writeTrace(dir, 16384, 4096, 20000);
  assert.ok(flags !== undefined && (flags & O_DIRECT) !== 0, `data file opened with O_DIRECT (flags ${flags?.toString(8)})`);
  assert.equal(fs.statSync(path.join(dir, 'channel0_0')).size % 4096, 0);
  const ns = await ourEvents(dir);
  assert.deepEqual(ns, Array.from({ length: 20000 }, (_, i) => i));
  const lines = babeltraceLines(dir);
  assert.equal(lines.length, 20000);
  assert.match(lines[19999]!, /tick: \{ cpu_id = 0 \}, \{ n = 19999, s = "event 19999" \}$/);
});

test('packets that cannot go directly (sizes not multiples of 4096) are written through the page cache', async () => {
  const dir = path.join(tmpRoot, 'unaligned');
  // 15000-byte packets of 1000-byte pages: the first packet already leaves O_DIRECT.
  const { lastFlags } = await writeTrace(dir, 15000, 1000, 5000);
  assert.ok(lastFlags !== undefined && (lastFlags & O_DIRECT) === 0, `data file reopened without O_DIRECT (flags ${lastFlags?.toString(8)})`);
  assert.deepEqual(await ourEvents(dir), Array.from({ length: 5000 }, (_, i) => i));
  assert.equal(babeltraceLines(dir).length, 5000);
});

/** This process's descriptors open on the same file as `fd` (itself included). */
function descriptorsOn(fd: number): number {
  const { dev, ino } = fs.fstatSync(fd);
  let n = 0;
  for (const d of fs.readdirSync('/proc/self/fd')) {
    try {
      const st = fs.statSync(`/proc/self/fd/${d}`);
      if (st.dev === dev && st.ino === ino) n++;
    } catch {
      // Closed meanwhile (readdir's own descriptor).
    }
  }
  return n;
}

/** A DirectFile on `file` (created), opened O_DIRECT, and how its writes went (`reopened`: page-cache descriptors beside it). */
function openDirect(file: string): { f: DirectFile; paths: string[]; reopened: () => number } {
  const paths: string[] = [];
  const f = DirectFile.open(
    true,
    (direct) => fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | (direct ? O_DIRECT : 0), 0o644),
    (fd, b, pos) => {
      paths.push((Number.parseInt(/^flags:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8) & O_DIRECT) !== 0 ? 'direct' : 'cached');
      let done = 0;
      while (done < b.length) done += fs.writeSync(fd, b, done, b.length - done, pos + done);
    },
  );
  return { f, paths, reopened: () => descriptorsOn(f.fd) - 1 };
}

test('direct writes go behind the writer: it reuses its buffer at once and learns of each packet in file order', { skip: directIoEnabled ? false : 'LTT_DIRECT_IO=0' }, async () => {
  const file = path.join(tmpRoot, 'behind');
  const { f, paths, reopened } = openDirect(file);
  const order: number[] = [];
  const packet = allocateAligned(65536);
  try {
    for (let k = 0; k < 20; k++) {
      packet.fill(k + 1);
      // A short packet padded to a whole page: the padding is zeros.
      f.append(packet.subarray(0, k === 19 ? 100 : 65536), 65536, {
        done: (pos) => {
          assert.equal(pos, k * 65536);
          order.push(k);
        },
        failed: (e) => assert.fail(String(e)),
      });
      packet.fill(0xee); // the writer's next packet: what was handed over must not change
    }
    assert.ok(order.length < 20, `write() returned before the device had every packet (${order.length} told at once)`);
    await f.settle();
    assert.deepEqual(order, [...Array(20).keys()], 'every packet told, in file order, once settle() resolved');
    assert.ok(f.isDirect);
    assert.equal(reopened(), 0, 'no page-cache descriptor needed');
    assert.deepEqual(paths, [], 'nothing written on the writer\'s thread');
  } finally {
    await f.close();
  }
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.length, 20 * 65536);
  for (let k = 0; k < 19; k++) assert.ok(bytes.subarray(k * 65536, (k + 1) * 65536).every((b) => b === k + 1), `packet ${k}`);
  assert.ok(bytes.subarray(19 * 65536, 19 * 65536 + 100).every((b) => b === 20) && bytes.subarray(19 * 65536 + 100).every((b) => b === 0), 'padding');
});

test('a file stages its packets in the staging buffers of files closed before it, and never in a caller\'s buffer', { skip: directIoEnabled ? false : 'LTT_DIRECT_IO=0' }, async () => {
  const packet = allocateAligned(65536);
  // Written through the page cache (after a size O_DIRECT cannot take): the file writes it, and must not keep it.
  const callers = allocateAligned(65536).fill(0x5a);
  const write = async (name: string, fill: (k: number) => number, tail?: Buffer): Promise<Buffer> => {
    const file = path.join(tmpRoot, name);
    const { f } = openDirect(file);
    // Far fewer than can be staged at once (STAGING_BYTES), appended without a pause: every packet is staged.
    for (let k = 0; k < 40; k++) {
      packet.fill(fill(k));
      f.append(packet.subarray(0, k === 39 ? 100 : 65536), 65536, { done() {}, failed: (e) => assert.fail(String(e)) });
    }
    if (tail !== undefined) {
      f.append(tail.subarray(0, 1000), 1000, { done() {}, failed: (e) => assert.fail(String(e)) });
      f.append(tail, 65536, { done() {}, failed: (e) => assert.fail(String(e)) });
    }
    await f.close();
    return fs.readFileSync(file);
  };
  await write('staging-first', () => 0xaa, callers);
  const before = stagingStats();
  assert.equal(before.free, before.capacity, 'every block back once the first file closed');
  const bytes = await write('staging-second', (k) => k + 1);
  assert.equal(stagingStats().peak, before.peak, 'no more staging in use than the first file used: its blocks were reused');
  assert.equal(stagingStats().free, before.capacity, 'every block back once the second file closed');
  assert.ok(callers.every((b) => b === 0x5a), 'the buffer the first file wrote through the page cache was not staged into');
  assert.equal(bytes.length, 40 * 65536);
  for (let k = 0; k < 40; k++) {
    const p = bytes.subarray(k * 65536, (k + 1) * 65536);
    const n = k === 39 ? 100 : 65536;
    assert.ok(p.subarray(0, n).every((b) => b === k + 1) && p.subarray(n).every((b) => b === 0), `packet ${k}: its bytes, then zeros`);
  }
});

test('a packet written behind that does not fit cuts the file back to it and fails the packets staged after it', { skip: directIoEnabled && process.getuid?.() === 0 ? false : 'needs root (tmpfs) and O_DIRECT' }, async () => {
  const dir = fs.mkdtempSync('/tmp/ltt-direct-full-');
  assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=320k', 'tmpfs', dir]).status, 0);
  try {
    fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(65536));
    const { f } = openDirect(path.join(dir, 'data'));
    const told: string[] = [];
    const packet = allocateAligned(65536).fill(7);
    for (let k = 0; k < 6; k++) f.append(packet, 65536, { done: (pos) => told.push(`done ${k} at ${pos / 65536}`), failed: () => told.push(`failed ${k}`) });
    // Four fit: the fifth fails (at once or behind), the sixth with it.
    await new Promise((r) => setTimeout(r, 100));
    await f.settle();
    assert.deepEqual(told, ['done 0 at 0', 'done 1 at 1', 'done 2 at 2', 'done 3 at 3', 'failed 4', 'failed 5']);
    assert.equal(fs.statSync(path.join(dir, 'data')).size, 4 * 65536, 'the file ends at the last whole packet');
    assert.equal(f.size, 4 * 65536);
    // Room again: the next packet goes where the failed one was to go.
    fs.rmSync(path.join(dir, 'filler'));
    f.append(packet.fill(9), 65536, { done: (pos) => told.push(`done again at ${pos / 65536}`), failed: () => told.push('failed again') });
    await f.settle();
    assert.equal(told.at(-1), 'done again at 4');
    // Closed before the unmount below, which fails while the descriptor is open (close is asynchronous).
    await f.close();
    assert.equal(fs.readFileSync(path.join(dir, 'data'))[4 * 65536], 9);
  } finally {
    // A failed assertion above leaves the file open: detach the mount lazily so that failure is what is shown.
    if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('staging is one bounded memory: with the device held, appends stage up to STAGING_BYTES, never write on the writer\'s thread, then are refused; all land in order once the device answers', { skip: directIoEnabled ? false : 'LTT_DIRECT_IO=0', timeout: 60_000 }, async () => {
  const file = path.join(tmpRoot, 'bounded');
  const fifos = [0, 1, 2, 3].map((k) => path.join(tmpRoot, `bounded-fifo${k}`));
  let released = true;
  const release = (): void => {
    if (released) return;
    released = true;
    for (const p of fifos) fs.closeSync(fs.openSync(p, 'w'));
  };
  const { f, paths } = openDirect(file);
  const MiB = 1 << 20;
  const told: string[] = [];
  const packet = allocateAligned(MiB);
  try {
    for (const p of fifos) assert.equal(spawnSync('mkfifo', [p]).status, 0);
    // A device that does not answer: every thread of libuv's pool (4) waits for a FIFO writer.
    const opened = fifos.map((p) => new Promise<number>((resolve, reject) => fs.open(p, 'r', (err, fd) => (err ? reject(err) : resolve(fd)))));
    released = false;
    await new Promise((r) => setTimeout(r, 100));
    let k = 0;
    for (; f.hasRoom(MiB) && k < 2 * (STAGING_BYTES / MiB); k++) {
      const n = k;
      f.append(packet.fill((n % 250) + 1), MiB, { done: (pos) => told.push(pos === n * MiB ? `done ${n}` : `done ${n} at ${pos}`), failed: (e) => told.push(`failed ${n}: ${String(e)}`) });
    }
    assert.equal(k, STAGING_BYTES / MiB, 'staged up to the bound, not beyond');
    assert.deepEqual(stagingStats(), { capacity: STAGING_BYTES, free: 0, peak: STAGING_BYTES }, 'all of staging in use, none beside it');
    let refused = '';
    f.append(packet, MiB, { done: () => assert.fail('taken without room'), failed: (e) => (refused = String(e)) });
    assert.match(refused, /no staging memory left/);
    assert.deepEqual(told, [], 'the writer never waited for the device');
    assert.deepEqual(paths, [], 'nothing written on the writer\'s thread');
    let room = false;
    f.whenRoom(() => (room = true));
    release();
    for (const fd of await Promise.all(opened)) fs.closeSync(fd);
    await f.settle();
    assert.ok(room, 'whenRoom() called once the device took some');
    assert.deepEqual(told, Array.from({ length: k }, (_, n) => `done ${n}`), 'each packet told in file order');
    assert.equal(stagingStats().free, STAGING_BYTES, 'every block back on the free list');
    assert.equal(f.size, k * MiB);
  } finally {
    release();
    await f.close();
  }
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.length, 64 * MiB);
  for (let n = 0; n < 64; n++) assert.ok(bytes[n * MiB] === (n % 250) + 1 && bytes[(n + 1) * MiB - 1] === (n % 250) + 1, `packet ${n}`);
});

test('direct writes that fall behind the writer: the page cache once the write under way is back (written behind too: the writer never waits), O_DIRECT again later', { skip: directIoEnabled ? false : 'LTT_DIRECT_IO=0', timeout: 60_000 }, async () => {
  const file = path.join(tmpRoot, 'behind-slow');
  const fifos = [0, 1, 2, 3].map((k) => path.join(tmpRoot, `slow-fifo${k}`));
  let released = true;
  const release = (): void => {
    if (released) return;
    released = true;
    for (const p of fifos) fs.closeSync(fs.openSync(p, 'w'));
  };
  const { f, paths, reopened } = openDirect(file);
  const isODirect = (): boolean => (Number.parseInt(/^flags:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${f.fd}`, 'utf8'))![1]!, 8) & O_DIRECT) !== 0;
  const MiB = 1 << 20;
  const told: number[] = [];
  const tell = (k: number) => ({ done: (pos: number) => told.push(pos / MiB === k ? k : -1), failed: (e: unknown) => assert.fail(String(e)) });
  const packet = allocateAligned(MiB);
  try {
    for (const p of fifos) assert.equal(spawnSync('mkfifo', [p]).status, 0);
    // A device that does not answer: every thread of libuv's pool (4) waits for a FIFO writer.
    const opened = fifos.map((p) => new Promise<number>((resolve, reject) => fs.open(p, 'r', (err, fd) => (err ? reject(err) : resolve(fd)))));
    released = false;
    await new Promise((r) => setTimeout(r, 100));
    // Six packets: the first is the write under way, five (more than half the 8 MiB staging limit) wait.
    for (let k = 0; k < 6; k++) f.append(packet.fill(k + 1), MiB, tell(k));
    assert.deepEqual(told, [], 'the writer did not wait for the device');
    assert.deepEqual(paths, [], 'nothing written synchronously');
    release();
    for (const fd of await Promise.all(opened)) fs.closeSync(fd);
    // The write under way lands (never written again), and what waited follows through the page cache.
    for (let waited = 0; told.length < 6 && waited < 20_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(told, [0, 1, 2, 3, 4, 5], 'each packet told in file order');
    assert.ok(!f.writingDirectly && f.isDirect && isODirect() && reopened() === 1, 'in the page cache for now (a descriptor beside the direct one), O_DIRECT again later');
    f.append(packet.fill(7), MiB, tell(6));
    assert.deepEqual(told.length, 6, 'the next packet goes behind too (through the page cache)');
    for (let waited = 0; told.length < 7 && waited < 20_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(paths, [], 'no packet written synchronously: the writer never waited');
    await new Promise((r) => setTimeout(r, 2100));
    f.append(packet.fill(8), MiB, tell(7));
    assert.ok(f.writingDirectly, 'O_DIRECT again two seconds later');
    for (let waited = 0; told.length < 8 && waited < 20_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(told, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(paths, [], 'the last packet went behind too');
  } finally {
    release();
    await f.close();
  }
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.length, 8 * MiB);
  for (let k = 0; k < 8; k++) assert.ok(bytes.subarray(k * MiB, (k + 1) * MiB).every((b) => b === k + 1), `packet ${k}`);
});

/** Opens /dev/null until the process has no descriptor left (EMFILE); the returned function closes them again. */
function exhaustDescriptors(): () => void {
  const held: number[] = [];
  try {
    for (;;) held.push(fs.openSync('/dev/null', 'r'));
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'EMFILE');
  }
  return () => {
    for (const fd of held.splice(0)) fs.closeSync(fd);
  };
}

test('no page-cache descriptor to be had (EMFILE): the packets staged fail, those already in the file stay, and writers waiting for room are told', { skip: directIoEnabled ? false : 'LTT_DIRECT_IO=0' }, async () => {
  const file = path.join(tmpRoot, 'emfile');
  const { f } = openDirect(file);
  const told: string[] = [];
  const tell = (k: number) => ({ done: (pos: number) => told.push(`done ${k} at ${pos}`), failed: (e: unknown) => told.push(`failed ${k}: ${(e as NodeJS.ErrnoException).code}`) });
  const packet = allocateAligned(65536).fill(3);
  let release: (() => void) | undefined;
  try {
    // The first packet goes out directly; the second (a size O_DIRECT cannot take) waits for it, then needs a
    // page-cache descriptor, which cannot be had by then.
    f.append(packet, 65536, tell(0));
    f.append(packet.subarray(0, 1000), 1000, tell(1));
    release = exhaustDescriptors();
    await f.settle();
    assert.deepEqual(told, ['done 0 at 0', 'failed 1: EMFILE']);
    assert.equal(f.size, 65536, 'the file still ends after the packet written (and indexed) before');
    // Nothing of the file is out now: a packet staged fails at once, with no I/O callback to come; a writer
    // waiting for room must be told all the same.
    let room = false;
    f.whenRoom(() => (room = true));
    f.append(packet.subarray(0, 1000), 1000, tell(2));
    await new Promise((r) => setImmediate(r));
    assert.equal(told.at(-1), 'failed 2: EMFILE');
    assert.ok(room, 'whenRoom() called after the failure');
    release();
    release = undefined;
    f.append(packet.fill(4).subarray(0, 1000), 1000, tell(3));
    await f.settle();
    assert.equal(told.at(-1), 'done 3 at 65536');
  } finally {
    release?.();
    await f.close();
  }
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.length, 65536 + 1000);
  assert.ok(bytes.subarray(0, 65536).every((b) => b === 3) && bytes.subarray(65536).every((b) => b === 4), 'the first packet kept, the last after it');
});

test('a file unlinked and replaced by a new one of its name (a tracefile ring) while packets wait: they land in the unlinked file, never in the new one', { skip: directIoEnabled ? false : 'LTT_DIRECT_IO=0' }, async () => {
  const file = path.join(tmpRoot, 'ring_0');
  const { f } = openDirect(file);
  const told: string[] = [];
  const tell = (k: number) => ({ done: (pos: number) => told.push(`done ${k} at ${pos}`), failed: (e: unknown) => told.push(`failed ${k}: ${String(e)}`) });
  const packet = allocateAligned(65536).fill(5);
  const old = fs.openSync(file, 'r');
  try {
    // The second packet waits for the first's direct write, then goes through the page cache (its size).
    f.append(packet, 65536, tell(0));
    f.append(packet.subarray(0, 1000), 1000, tell(1));
    fs.unlinkSync(file);
    fs.writeFileSync(file, 'the ring\'s new file');
    await f.close();
    assert.deepEqual(told, ['done 0 at 0', 'done 1 at 65536']);
    assert.equal(fs.readFileSync(file, 'utf8'), 'the ring\'s new file', 'the new file untouched');
    assert.equal(fs.fstatSync(old).size, 65536 + 1000, 'both packets in the unlinked file');
  } finally {
    fs.closeSync(old);
  }
});

test('the direct write rate is measured with packet sizes that do not divide a direct batch', { skip: directIoEnabled ? false : 'LTT_DIRECT_IO=0' }, async () => {
  const { f } = openDirect(path.join(tmpRoot, 'rate'));
  const size = 768 << 10;
  const packet = allocateAligned(size).fill(6);
  try {
    // The first goes alone; the next batch takes two (1.5 MiB: a third would pass the 2 MiB direct batch).
    for (let k = 0; k < 6; k++) f.append(packet, size, { done() {}, failed: (e) => assert.fail(String(e)) });
    await f.settle();
    assert.ok(f.writingDirectly);
    const rate = (f as unknown as { directRate: number }).directRate;
    assert.ok(Number.isFinite(rate) && rate > 0, `direct rate measured (${rate} bytes/ms)`);
  } finally {
    await f.close();
  }
});
