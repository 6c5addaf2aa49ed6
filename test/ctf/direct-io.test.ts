// Stream files written with O_DIRECT (src/ctf/writer/direct-io.ts): the packet buffers are page-aligned, the
// data file is really opened O_DIRECT (its flags in /proc/self/fdinfo), a stream whose packets cannot be
// written directly goes back to the page cache on the same file, a write that cannot wait for the device (its
// ring would fill) goes through the page cache while the stream stays direct, and either way the trace reads back whole
// (our reader and babeltrace2 agree on every event).

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { CtfTraceWriter } from '../../src/ctf/writer/index.js';
import { allocateAligned, DirectFile, directIoEnabled, directWritable, DirectWriteMonitor } from '../../src/ctf/writer/direct-io.js';
import { events as readEvents, openTrace } from '../../src/ctf/index.js';

const O_DIRECT = fs.constants.O_DIRECT;
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ltt-direct-io-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** The open-file flags of this process's descriptor for `file` (from /proc/self/fdinfo), or undefined. */
function openFlags(file: string): number | undefined {
  for (const fd of fs.readdirSync('/proc/self/fd')) {
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

async function writeTrace(dir: string, packetSize: number, pageSize: number, events: number): Promise<{ flags: number | undefined }> {
  const w = await CtfTraceWriter.create({ dir, env: { domain: 'kernel' }, clock: { name: 'monotonic', frequency: 1_000_000_000, offsetSeconds: 0n, offsetCycles: 0n } });
  const id = w.addEventClass({ name: 'tick', fields: [{ name: 'n', kind: 'int', size: 64, signed: false }, { name: 's', kind: 'string' }] });
  const s = w.openStream({ fileName: 'channel0_0', cpuId: 0, packetSize, pageSize });
  for (let i = 0; i < events; i++) s.write(id, 1000 + i * 10, [i, `event ${i}`]);
  const flags = openFlags(path.join(dir, 'channel0_0'));
  await w.close();
  return { flags };
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
  assert.ok(directWritable(a, 8192));
  assert.ok(!directWritable(a.subarray(16), 0), 'an unaligned view is not written directly');
  assert.ok(!directWritable(Buffer.alloc(4096), 0), "Node's own buffers are not known to be aligned");

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
  const { flags } = await writeTrace(dir, 15000, 1000, 5000);
  assert.ok(flags !== undefined && (flags & O_DIRECT) === 0, `data file reopened without O_DIRECT (flags ${flags?.toString(8)})`);
  assert.deepEqual(await ourEvents(dir), Array.from({ length: 5000 }, (_, i) => i));
  assert.equal(babeltraceLines(dir).length, 5000);
});

test('a disk slower than 100 MB/s sends the stream back to the page cache, judged over 20 ms windows', () => {
  const fast = new DirectWriteMonitor();
  for (let i = 0; i < 1000; i++) assert.ok(fast.record(1 << 20, 0.45), '2.3 GB/s (this VM) stays direct');
  // Small packets on a slow disk: each write is quick, the windows are not (4 KiB in 0.9 ms = 4.5 MB/s).
  const small = new DirectWriteMonitor();
  let writes = 0;
  while (small.record(4096, 0.9)) if (++writes > 1000) break;
  assert.ok(writes >= 22 && writes <= 50, `given up after two slow windows (${writes} writes)`);
  // One slow window alone (a hiccup) is forgiven when the next one is fast.
  const hiccup = new DirectWriteMonitor();
  assert.ok(hiccup.record(1 << 20, 25), 'first slow window');
  for (let i = 0; i < 100; i++) assert.ok(hiccup.record(1 << 20, 0.5), 'fast again');
  assert.ok(hiccup.record(1 << 20, 25), 'a later slow window is the first of a new count');
});

test('a write that cannot wait as long as direct writes take goes through the page cache, same file', { skip: directIoEnabled ? false : 'LTT_DIRECT_IO=0' }, () => {
  const file = path.join(tmpRoot, 'budget');
  let reopened = 0;
  const f = DirectFile.open(
    true,
    (direct) => fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | (direct ? O_DIRECT : 0), 0o644),
    () => {
      reopened++;
      return fs.openSync(file, fs.constants.O_WRONLY);
    },
  );
  const page = (k: number): Buffer => allocateAligned(4096).fill(k);
  const paths: string[] = [];
  const writeAll = (fd: number, b: Uint8Array, pos: number): void => {
    paths.push((Number.parseInt(/^flags:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8) & O_DIRECT) !== 0 ? 'direct' : 'cached');
    fs.writeSync(fd, b, 0, b.length, pos);
  };
  try {
    f.write(page(1), 0, writeAll, undefined, 0); // no direct write timed yet: direct
    f.write(page(2), 4096, writeAll, undefined, Infinity);
    // A ring with more packets waiting (budget 0) cannot wait for the device.
    f.write(page(3), 8192, writeAll, undefined, 0);
    f.write(page(4), 12288, writeAll, undefined, 0);
    f.write(page(5), 16384, writeAll, undefined, Infinity);
    assert.deepEqual(paths, ['direct', 'direct', 'cached', 'cached', 'direct']);
    assert.equal(reopened, 1, 'the page-cache descriptor is opened once and kept');
    assert.ok(f.isDirect, 'the stream stays direct');
  } finally {
    f.close();
  }
  const bytes = fs.readFileSync(file);
  assert.deepEqual([...Array(5).keys()].map((k) => bytes[k * 4096]), [1, 2, 3, 4, 5]);
  assert.equal(bytes.length, 5 * 4096);
});
