// The generated event loop (ctf/decode/codegen.ts compileSkipLoop) keeps a stream's clock as high and low parts
// while it stays a number below 2^53, and leaves an event whose clock would not to the per-event decoders, then
// goes on. A trace whose 32-bit event timestamps wrap several times and carry the clock past 2^53 in the
// middle of a packet: `ltt view` (the fused loop: the recording loop) prints what babeltrace2 prints, and the
// dummy sink's loop (skipAll) reads as many messages as the graph hands over.

import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mux } from '../../src/graph/muxer.js';
import { runDummyGraph } from '../../src/graph/open-trace.js';
import { openCtfFs } from '../../src/graph/source-ctf-fs.js';

const METADATA = `/* CTF 1.8 */
typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
typealias integer { size = 16; align = 8; signed = false; } := uint16_t;
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
typealias integer { size = 64; align = 8; signed = false; } := uint64_t;
trace { major = 1; minor = 8; byte_order = le;
  packet.header := struct { uint32_t magic; uint32_t stream_id; }; };
clock { name = "c"; freq = 1000000000; offset_s = 0; offset = 0; absolute = TRUE; };
typealias integer { size = 64; align = 8; signed = false; map = clock.c.value; } := uint64_clock_t;
typealias integer { size = 32; align = 8; signed = false; map = clock.c.value; } := uint32_clock_t;
stream { id = 0;
  packet.context := struct { uint64_clock_t timestamp_begin; uint64_clock_t timestamp_end; uint64_t content_size; uint64_t packet_size; };
  event.header := struct { uint16_t id; uint32_clock_t timestamp; }; };
event { name = "tick"; id = 0; stream_id = 0; fields := struct { uint32_t i; string s; }; };
`;

/** Events a little less than 2^32 ns apart (nearly every one wraps the 32-bit timestamp), the clock starting 20 * 2^32 below 2^53. */
function writeTrace(dir: string, events: number): bigint[] {
  writeFileSync(join(dir, 'metadata'), METADATA);
  const times: bigint[] = [];
  let t = (1n << 53n) - 20n * (1n << 32n) + 12345n;
  const body: Buffer[] = [];
  for (let i = 0; i < events; i++) {
    t += (1n << 32n) - 1000n - BigInt(i * 977);
    times.push(t);
    const s = Buffer.from(`event ${i}\0`);
    const e = Buffer.alloc(2 + 4 + 4);
    e.writeUInt16LE(0, 0);
    e.writeUInt32LE(Number(t & 0xffffffffn), 2);
    e.writeUInt32LE(i, 6);
    body.push(e, s);
  }
  const head = 8 + 32;
  const content = head + body.reduce((a, b) => a + b.length, 0);
  const size = Math.ceil(content / 4096) * 4096;
  const pkt = Buffer.alloc(size);
  pkt.writeUInt32LE(0xc1fc1fc1, 0);
  pkt.writeUInt32LE(0, 4);
  pkt.writeBigUInt64LE(times[0]! - 1000n, 8);
  pkt.writeBigUInt64LE(times[times.length - 1]!, 16);
  pkt.writeBigUInt64LE(BigInt(content * 8), 24);
  pkt.writeBigUInt64LE(BigInt(size * 8), 32);
  Buffer.concat(body).copy(pkt, head);
  const fd = openSync(join(dir, 'stream_0'), 'w');
  writeSync(fd, pkt);
  closeSync(fd);
  return times;
}

test('a clock that wraps and passes 2^53 in the middle of a packet: ltt view prints what babeltrace2 prints, the dummy sink reads every event', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltt-skip-loop-clock-'));
  try {
    const events = 60;
    const times = writeTrace(dir, events);
    assert.ok(times[0]! < 1n << 53n && times[events - 1]! > 1n << 53n, 'the clock passes 2^53 in the packet');
    for (const args of [['--clock-cycles'], []]) {
      const bt = spawnSync('babeltrace2', [...args, dir], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
      assert.equal(bt.status, 0, bt.stderr);
      const ours = spawnSync(process.execPath, [join(process.cwd(), 'bin', 'ltt'), 'view', ...args, dir], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
      assert.equal(ours.status, 0, ours.stderr);
      assert.equal(bt.stdout.trim().split('\n').length, events);
      assert.equal(ours.stdout, bt.stdout, `ltt view ${args.join(' ')}`);
    }
    // The cycles babeltrace2 printed are the ones written.
    const cycles = spawnSync('babeltrace2', ['--clock-cycles', dir], { encoding: 'utf8' }).stdout.trim().split('\n').map((l) => BigInt(l.slice(1, l.indexOf(']'))));
    assert.deepEqual(cycles, times);
    let messages = 0;
    for await (const batch of mux((await openCtfFs([dir])).createStreams())) messages += batch.length;
    assert.equal(await runDummyGraph(await openCtfFs([dir])), messages);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
