// Damaged data streams: random byte flips in corpus traces (metadata and index left intact) must end in a
// one-line LttError or in a normal end — never another exception, a crash or a hang.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLttError } from '../../src/errors.js';
import { CORPUS, run } from '../graph/corpus-helpers.js';

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function dataFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n !== 'metadata' && !n.startsWith('.'))
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isFile() && statSync(p).size > 0);
}

const ROUNDS = Number(process.env.LTT_FUZZ_ROUNDS ?? 16);
const SEED = Number(process.env.LTT_FUZZ_SEED ?? 1);

const TRACES = ['succeed/sequence', 'succeed/wk-heartbeat-u', 'synthetic/all-types', 'succeed/multi-domains/ust', 'succeed/multi-domains/kernel', 'succeed/lttng-tracefile-rotation', 'succeed/smalltrace'];

for (const trace of TRACES) {
  test(`random damage in ${trace}: LttError or success, never anything else`, async () => {
    const rnd = prng(trace.length * 7919 + SEED);
    const work = mkdtempSync(join(tmpdir(), 'ltt-fuzz-'));
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const dir = join(work, String(round));
        cpSync(join(CORPUS, trace), dir, { recursive: true });
        chmodSync(dir, 0o755);
        const files = dataFiles(dir);
        assert.ok(files.length > 0);
        const f = files[Math.floor(rnd() * files.length)]!;
        chmodSync(f, 0o644);
        const bytes = readFileSync(f);
        const flips = 1 + Math.floor(rnd() * 8);
        for (let i = 0; i < flips; i++) bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
        writeFileSync(f, bytes);
        const { messages, error } = await run([dir]);
        if (error !== undefined) {
          assert.ok(isLttError(error), `round ${round}: ${String((error as Error).stack ?? error)}`);
          assert.ok(!error.message.includes('\n'));
        }
        // Field values of every event that was accepted must decode too.
        for (const m of messages) if (m.type === 'event') void m.payload;
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}
