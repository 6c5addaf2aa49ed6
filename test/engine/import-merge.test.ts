// The import's merge loop (import-trace.ts merge()) runs once for most of an import, so V8 optimizes it while it
// runs: a path it had not run by then (a stream's end, two streams' events at the same time) must not throw the
// loop out of its optimized code (V8 then compiled it again whole: ~0.1 s of a CPU each time, and the events
// meanwhile went through the interpreter). Optimizations and deoptimizations traced in a child process over a
// two-stream trace whose streams tie only in their second half and end at different times.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bailoutsOf, optimizedFunctions } from './v8-trace.js';

const METADATA = `/* CTF 1.8 */
typealias integer { size = 8; align = 8; signed = false; } := uint8_t;
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
typealias integer { size = 64; align = 8; signed = false; } := uint64_t;
trace {
  major = 1; minor = 8; byte_order = le;
  packet.header := struct { uint32_t magic; uint32_t stream_id; };
};
clock { name = "c"; freq = 1000000000; offset_s = 0; };
typealias integer { size = 64; align = 8; signed = false; map = clock.c.value; } := clk64_t;
stream {
  id = 0;
  packet.context := struct { uint64_t packet_size; uint64_t content_size; };
  event.header := struct { uint8_t id; clk64_t timestamp; };
};
event { name = "tick"; id = 0; stream_id = 0; fields := struct { uint32_t seq; }; };
`;

/** One packet of `times.length` tick events at these times. */
function writeStream(file: string, times: number[]): void {
  const b = Buffer.alloc(8 + 16 + times.length * 13 + 8);
  b.writeUInt32LE(0xc1fc1fc1, 0);
  b.writeUInt32LE(0, 4);
  let p = 24;
  times.forEach((t, i) => {
    b[p] = 0;
    b.writeBigUInt64LE(BigInt(t), p + 1);
    b.writeUInt32LE(i, p + 9);
    p += 13;
  });
  const size = Math.ceil(p / 8) * 8;
  b.writeBigUInt64LE(BigInt(size * 8), 8);
  b.writeBigUInt64LE(BigInt(p * 8), 16);
  writeFileSync(file, b.subarray(0, size));
}

it('the merge loop stays optimized through ties and a stream\'s end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ltt-import-merge-'));
  try {
    writeFileSync(join(dir, 'metadata'), METADATA);
    const N = 300_000;
    // Interleaved (even and odd times) for the first half, the same times after; stream 1 ends first.
    writeStream(join(dir, 'stream_0'), Array.from({ length: N }, (_, i) => (i < N / 2 ? 2 * i : 2 * i + 1)));
    writeStream(join(dir, 'stream_1'), Array.from({ length: N * 0.8 }, (_, i) => (i < N / 2 ? 2 * i + 1 : 2 * i + 1)));
    const dbUrl = new URL('../../src/engine/trace-db.js', import.meta.url).href;
    const code = `
      const { openTraceDb } = await import(${JSON.stringify(dbUrl)});
      const db = await openTraceDb([process.argv[2]], { noCache: true });
      const r = await db.conn.runAndReadAll('SELECT count(*) FROM events');
      process.stdout.write('events ' + r.getRows()[0][0] + '\\n');
      db.close();`;
    // A module file, not \`node -e\`: an import there never finishes (its top-level await and the writer thread).
    writeFileSync(join(dir, '..', `${dir.split('/').pop()}-child.mjs`), code);
    const r = spawnSync(process.execPath, ['--trace-opt', '--trace-deopt', join(dir, '..', `${dir.split('/').pop()}-child.mjs`), dir], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^events ${N + N * 0.8}$`, 'm'));
    // Optimized first: never optimized, the loop would show no bailout either.
    assert.ok(optimizedFunctions(r.stdout).has('merge'), 'V8 optimized the merge loop');
    assert.deepEqual(bailoutsOf(r.stdout, /merge|readTraces|less|topChanged/), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}-child.mjs`, { force: true });
  }
});
